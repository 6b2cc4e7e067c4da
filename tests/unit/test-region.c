/*
 * test-region.c - the Midlands region helper: postcodes, then whole texts
 * (system names beat places beat postcodes), then the explanation.
 */
#include "testutil.h"

#include "region.h"

struct postcode_case {
	const char	*s;
	enum region	 want;
};

static const struct postcode_case postcode_cases[] = {
	{ "B1 1AA", REGION_WEST },
	{ "b15 2tt", REGION_WEST },
	{ "CV4 7AL", REGION_WEST },
	{ "DY1 1HF", REGION_WEST },
	{ "WS1 1TP", REGION_WEST },
	{ "WV1 1LY", REGION_WEST },
	{ "ST4 6QG", REGION_WEST },
	{ "TF1 6TF", REGION_WEST },
	{ "WR5 1DD", REGION_WEST },
	{ "HR1 2ER", REGION_WEST },
	{ "SY3 8XQ", REGION_WEST },
	{ "DE22 3NE", REGION_EAST },
	{ "NG7 2UH", REGION_EAST },
	{ "LE1 5WW", REGION_EAST },
	{ "LN1 1YL", REGION_EAST },
	{ "NN1 1ED", REGION_EAST },
	{ "S40 1LH", REGION_EAST },
	{ "S45 9AA", REGION_EAST },
	{ "S41", REGION_EAST },
	{ "DE223NE", REGION_EAST },
	{ "S1 2HE", REGION_NONE },		/* Sheffield */
	{ "S39 1AA", REGION_NONE },
	{ "S46 1AA", REGION_NONE },
	{ "BA1 1LZ", REGION_NONE },		/* Bath, not B */
	{ "BS1 4DJ", REGION_NONE },		/* Bristol */
	{ "SK17 6XA", REGION_NONE },		/* Stockport */
	{ "SW1A 2AA", REGION_NONE },
	{ "M1 1AE", REGION_NONE },
	{ "B2 3RD", REGION_NONE },		/* an ordinal, not a postcode */
	{ "", REGION_NONE },
	{ "hello", REGION_NONE },
	{ "123 4AB", REGION_NONE },
};

static void
test_postcode(void **state)
{
	const struct postcode_case	*c;
	size_t				 i;
	enum region			 got;

	for (i = 0; i < sizeof postcode_cases / sizeof postcode_cases[0];
	    i++) {
		c = &postcode_cases[i];
		got = region_postcode(c->s);
		if (got != c->want)
			fail_msg("region_postcode(\"%s\"): got %s, want %s",
			    c->s, region_name(got), region_name(c->want));
	}
}

struct detect_case {
	const char		*name;
	const char		*text;
	enum region		 want;
	enum region_kind	 by;	/* when want != NONE */
};

static const struct detect_case detect_cases[] = {
	{ "nothing", "Hello, can you help me?", REGION_NONE, 0 },
	{ "ICS name west", "I'm with Birmingham and Solihull ICB.",
	  REGION_WEST, REGION_KIND_SYSTEM },
	{ "ICS name with &", "Birmingham & Solihull ICS here",
	  REGION_WEST, REGION_KIND_SYSTEM },
	{ "ICS name east", "Leicester, Leicestershire and Rutland is planning",
	  REGION_EAST, REGION_KIND_SYSTEM },
	{ "ICS short name", "We in LLR would like", REGION_EAST,
	  REGION_KIND_SYSTEM },
	{ "hyphens and case", "STAFFORDSHIRE AND STOKE-ON-TRENT",
	  REGION_WEST, REGION_KIND_SYSTEM },
	{ "town", "I am an analyst in Derby.", REGION_EAST,
	  REGION_KIND_PLACE },
	{ "region name", "the West Midlands DSU lead", REGION_WEST,
	  REGION_KIND_PLACE },
	{ "postcode only", "Unit 4, Some Road, DE1 1AA", REGION_EAST,
	  REGION_KIND_POSTCODE },
	{ "chesterfield postcode", "Chesterfield Road, S41 7TD",
	  REGION_EAST, REGION_KIND_PLACE },
	{ "place beats postcode",
	  "We are in Coventry.\n-- \nPO Box 1, NG1 1AA", REGION_WEST,
	  REGION_KIND_PLACE },
	{ "the system I work in beats a postcode",
	  "I work in Derby.\n-- \nJo Bloggs, 1 Colmore Row, B3 2BJ",
	  REGION_EAST, REGION_KIND_SYSTEM },
	{ "the system I work in beats a town",
	  "I live in Birmingham but I work for Nottingham City Council.",
	  REGION_EAST, REGION_KIND_SYSTEM },
	{ "place followed by ICB is a system",
	  "Lincolnshire ICB would like to talk about Wolverhampton and "
	  "Walsall.", REGION_EAST, REGION_KIND_SYSTEM },
	{ "ICS name beats towns of the other half",
	  "Black Country ICB: we have visited Derby and Nottingham and "
	  "Leicester.", REGION_WEST, REGION_KIND_SYSTEM },
	{ "level is none", "Between Birmingham and Derby.", REGION_NONE,
	  0 },
	{ "level system, decided by place",
	  "Black Country and LLR; we are based near Telford",
	  REGION_WEST, REGION_KIND_PLACE },
	{ "ICS name is not also two towns",
	  "Coventry and Warwickshire, and Leicester and Derby",
	  REGION_WEST, REGION_KIND_SYSTEM },
	{ "Lincoln is not Lincolnshire twice", "Lincolnshire", REGION_EAST,
	  REGION_KIND_PLACE },
	{ "Sheffield postcode is not the East Midlands",
	  "Sheffield S1 2HE", REGION_NONE, 0 },
	{ "a word that starts like a place", "Derbyism and Telfordian",
	  REGION_NONE, 0 },
};

static void
test_detect(void **state)
{
	const struct detect_case	*c;
	struct region_result		 res;
	char				*why;
	size_t				 i;

	for (i = 0; i < sizeof detect_cases / sizeof detect_cases[0]; i++) {
		c = &detect_cases[i];
		region_detect(c->text, strlen(c->text), &res);
		why = region_explain(&res);
		if (res.region != c->want)
			fail_msg("%s: got %s, want %s (%s)", c->name,
			    region_name(res.region), region_name(c->want),
			    why);
		if (c->want != REGION_NONE && res.decided_by != c->by)
			fail_msg("%s: decided by kind %d, want %d (%s)",
			    c->name, res.decided_by, c->by, why);
		free(why);
		region_result_free(&res);
	}
}

static void
test_explain(void **state)
{
	struct region_result	 res;
	const char		*text = "I work in Derby.  B3 2BJ";
	char			*why;

	region_detect(text, strlen(text), &res);
	assert_int_equal(res.nhits, 2);
	assert_str_eq_msg("first hit", res.hits[0].text, "Derby");
	assert_str_eq_msg("second hit", res.hits[1].text, "B3 2BJ");
	assert_int_equal(res.hits[1].offset, 18);
	why = region_explain(&res);
	assert_str_eq_msg("explain", why,
	    "east: system \"Derby\" (works there); beats west: postcode "
	    "\"B3 2BJ\" (postcode) (decided by system mentions)");
	free(why);
	region_result_free(&res);

	region_detect("", 0, &res);
	why = region_explain(&res);
	assert_str_eq_msg("explain nothing", why, "");
	free(why);
	region_result_free(&res);
}

static void
test_names(void **state)
{
	enum region	r;

	assert_int_equal(region_from_name("West", &r), 0);
	assert_int_equal(r, REGION_WEST);
	assert_int_equal(region_from_name("east", &r), 0);
	assert_int_equal(r, REGION_EAST);
	assert_int_equal(region_from_name("north", &r), -1);
	assert_string_equal(region_name(REGION_NONE), "none");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_postcode),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
