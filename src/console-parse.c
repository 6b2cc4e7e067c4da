/*
 * console-parse.c - reading an enquiry's message for the console: its
 * text and its attachments, parsed as the daemon parses inbound mail, in
 * the confined, restartable parser child (parser.h).  The message is
 * still a stranger's, however long ago it came: libetpan never reads it
 * inside postroomd.
 *
 * One child serves the whole console: started on first use, shared by
 * libmicrohttpd's threads one request at a time (a parse takes
 * milliseconds, and a hostile one is cut off by the child's limits), and
 * started afresh with the new limits when the configuration is reloaded.
 * It lives as long as postroomd: when the daemon exits, its end of the
 * socket closes and the child, reading EOF, exits too.
 *
 * Owns: that child.  Does not own: parsing (mime-parse.c, in the child),
 * the pipe and the limits (parser.c), what the page shows (console-
 * enquiry.c).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "console-int.h"
#include "log.h"
#include "message.h"
#include "parser.h"
#include "web-int.h"
#include "xmalloc.h"

static pthread_mutex_t	 console_parse_lock = PTHREAD_MUTEX_INITIALIZER;
static struct parser	*console_parser;
static const struct conf *console_parser_conf;	/* its limits' */

int
console_parse(struct web_req *r, const char *raw, size_t len, size_t part,
    struct message **out, char **cause)
{
	int	rc;

	pthread_mutex_lock(&console_parse_lock);
	/* A reload may have changed inbound.max_message_size and the rest. */
	if (console_parser != NULL && console_parser_conf != r->conf) {
		parser_stop(console_parser);
		console_parser = NULL;
	}
	if (console_parser == NULL) {
		if ((console_parser = parser_start(r->conf, cause)) == NULL) {
			pthread_mutex_unlock(&console_parse_lock);
			log_warn("console: no parser child: %s", *cause);
			*out = message_new_failed("no parser child");
			return -1;
		}
		console_parser_conf = r->conf;
		log_debug("console: parser child %ld started",
		    (long)parser_pid(console_parser));
	}
	rc = parser_parse_part(console_parser, raw, len, part, out, cause);
	pthread_mutex_unlock(&console_parse_lock);
	return rc;
}
