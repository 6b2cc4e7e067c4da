/*
 * conf-dump.c - the configuration printed for a person: conf_dump() (the
 * effective configuration, "postroom config dump": every setting, lead,
 * list and rule as libconfig would read it back, passwords masked) and
 * conf_help() (every setting with its default, range or choices, and its
 * line of help).
 *
 * Owns: the printed forms.  Does not own: the settings (conf-table.c),
 * loading and checking them (conf.c, conf-check.c), nor showing problems
 * (cmd-config.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf-int.h"

/* A string as libconfig would read it back. */
static void
conf_dump_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char	c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
conf_dump_value(FILE *f, const void *base, const struct conf_setting *s)
{
	const struct conf_choice	*ch;
	const void			*p;
	int				 v;

	p = (const char *)base + s->offset;
	if (s->type == CONF_STRING) {
		if ((s->flags & CONF_F_SECRET) && **(char *const *)p != '\0')
			fputs("********", f);
		else
			conf_dump_string(f, *(char *const *)p);
		return;
	}
	v = *(const int *)p;
	switch (s->type) {
	case CONF_INT:
		fprintf(f, "%d", v);
		break;
	case CONF_BOOL:
		fputs(v ? "true" : "false", f);
		break;
	case CONF_TIME:
		fprintf(f, "\"%02d:%02d\"", v / 60, v % 60);
		break;
	case CONF_ENUM:
		for (ch = s->choices; ch->name != NULL; ch++) {
			if (ch->value == v)
				break;
		}
		conf_dump_string(f, ch->name != NULL ? ch->name : "?");
		break;
	case CONF_STRING:
		break;
	}
}

static void
conf_dump_node(FILE *f, const struct conf_node *n)
{
	size_t	i;

	switch (n->type) {
	case CONF_NODE_STRING:
		conf_dump_string(f, n->str);
		break;
	case CONF_NODE_INT:
		fprintf(f, "%lld", n->num);
		break;
	case CONF_NODE_FLOAT:
		fprintf(f, "%g", n->fnum);
		break;
	case CONF_NODE_BOOL:
		fputs(n->num ? "true" : "false", f);
		break;
	case CONF_NODE_GROUP:
		fputs("{", f);
		for (i = 0; i < n->nchildren; i++) {
			fprintf(f, " %s = ", n->children[i].name);
			conf_dump_node(f, &n->children[i]);
			fputs(";", f);
		}
		fputs(" }", f);
		break;
	case CONF_NODE_LIST:
		fputs("(", f);
		for (i = 0; i < n->nchildren; i++) {
			fputs(i > 0 ? ", " : " ", f);
			conf_dump_node(f, &n->children[i]);
		}
		fputs(" )", f);
		break;
	}
}

void
conf_dump(const struct conf *conf, FILE *f)
{
	const struct conf_setting	*s;
	const struct conf_lead		*lead;
	const struct conf_list		*list;
	const struct conf_rule		*rule;
	size_t				 i, j;

	fprintf(f, "# effective configuration: %s\n",
	    conf->path != NULL ? conf->path : "embedded defaults");
	for (s = conf_settings; s->name != NULL; s++) {
		fprintf(f, "%s = ", s->name);
		conf_dump_value(f, conf, s);
		if (conf->templates_note != NULL &&
		    strcmp(s->name, "general.templates") == 0)
			fprintf(f, "  # %s", conf->templates_note);
		fputc('\n', f);
	}
	for (i = 0; i < conf->nleads; i++) {
		lead = &conf->leads[i];
		fprintf(f, "leads.%s.name = ", lead->key);
		conf_dump_string(f, lead->name);
		fprintf(f, "\nleads.%s.addresses = [", lead->key);
		for (j = 0; j < lead->naddresses; j++) {
			fputs(j > 0 ? ", " : " ", f);
			conf_dump_string(f, lead->addresses[j]);
		}
		fputs(" ]\n", f);
	}
	for (i = 0; i < conf->nlists; i++) {
		list = &conf->lists[i];
		for (s = conf_list_settings; s->name != NULL; s++) {
			if (strcmp(s->name, "slug") == 0)
				continue;
			fprintf(f, "lists.%s.%s = ", list->slug, s->name);
			conf_dump_value(f, list, s);
			fputc('\n', f);
		}
	}
	for (i = 0; i < conf->nrules; i++) {
		rule = &conf->rules[i];
		for (j = 0; j < rule->node->nchildren; j++) {
			if (strcmp(rule->node->children[j].name, "name") == 0)
				continue;
			fprintf(f, "rules.%s.%s = ", rule->name,
			    rule->node->children[j].name);
			conf_dump_node(f, &rule->node->children[j]);
			fputc('\n', f);
		}
	}
}

void
conf_help(FILE *f)
{
	const struct conf_setting	*s;
	char				*list;

	for (s = conf_settings; s->name != NULL; s++) {
		fprintf(f, "%s = ", s->name);
		if (s->type == CONF_STRING || s->type == CONF_ENUM ||
		    s->type == CONF_TIME)
			conf_dump_string(f, s->def);
		else
			fputs(s->def, f);
		switch (s->type) {
		case CONF_STRING:
			if (s->choices == NULL)
				break;
			/* FALLTHROUGH */
		case CONF_ENUM:
			list = conf_choices_text(s->choices);
			fprintf(f, "  (%s)", list);
			free(list);
			break;
		case CONF_INT:
			fprintf(f, "  (%lld to %lld)", s->min, s->max);
			break;
		case CONF_BOOL:
			fputs("  (true or false)", f);
			break;
		case CONF_TIME:
			fputs("  (HH:MM)", f);
			break;
		}
		fprintf(f, "\n    %s\n", s->help);
	}
}
