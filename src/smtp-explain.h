/*
 * smtp-explain.h - a receiving mail server's reply in plain words, for
 * staff reading why a newsletter did not reach someone (the console's
 * failures and dashboard).  The enhanced status code (RFC 3463, "5.1.1")
 * says most; the reply code (RFC 5321) the rest.
 */
#ifndef POSTROOM_SMTP_EXPLAIN_H
#define POSTROOM_SMTP_EXPLAIN_H

/*
 * One sentence for reply code (0: there was no reply) with reply's text
 * (may be NULL or ""); static.
 */
const char	*smtp_explain(int code, const char *reply);

#endif
