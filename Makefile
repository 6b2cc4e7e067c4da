# postroom - mail service for the Midlands Decision Support Network.
#
#   make            build bin/postroomd and bin/postroom
#   make deps       install the Debian packages that are missing (root)
#   make run        run postroomd in the foreground on config/postroom.conf
#   make check      unit and scenario tests under ASan and UBSan (installs
#                   axe-core from npm into build/npm for browser.sh)
#   make bench      benchmarks (not tests)
#   make fuzz       short libFuzzer runs over the parsers (clang)
#   make install    PREFIX=/usr/local DESTDIR= ...

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
DATADIR	?= $(PREFIX)/share/postroom
SYSCONFDIR ?= /etc
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d

CC	?= cc
PKGS	 = libcurl libetpan libconfig sqlite3 libmicrohttpd libcmark libcrypto json-c \
	   libseccomp libargon2 liboath
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null | sed 's|-specs=[^ ]*||g')
CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN	 = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
	   -Wmissing-prototypes -Wno-unused-parameter
CFLAGS	?= -O2 -g
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE $(WARN) $(CFLAGS) \
	   -DPOSTROOM_TEMPLATEDIR='"$(DATADIR)/templates"' \
	   -DPOSTROOM_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
LDLIBS	 = $(PKG_LIBS) -lpthread
VERSION	 = 0.1.0

SAN_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=undefined

MAINS	 = src/postroomd.c src/postroom.c
LIB_SRCS = $(filter-out $(MAINS),$(wildcard src/*.c))
HDRS	 = $(wildcard src/*.h)
TEST_SRCS = $(wildcard tests/unit/test-*.c)

BUILD	?= build
BIN	?= bin
OBJ	 = $(BUILD)/obj
SOBJ	 = $(BUILD)/san/obj
LIB_OBJS = $(LIB_SRCS:src/%.c=$(OBJ)/%.o)
SLIB_OBJS = $(LIB_SRCS:src/%.c=$(SOBJ)/%.o)
SAN_TESTS = $(TEST_SRCS:tests/unit/%.c=$(BUILD)/san/tests/%)
SAN_BINS = $(BUILD)/san/bin/postroomd $(BUILD)/san/bin/postroom
AXE	 = $(BUILD)/npm/node_modules/axe-core/axe.min.js

Q	= $(if $(V),,@)
SAY	= $(if $(V),@true,@printf '  %-6s %s\n')

.PHONY: all deps run check unit bench fuzz install clean
all: $(BIN)/postroomd $(BIN)/postroom

# --- normal build -----------------------------------------------------------
$(OBJ)/%.o: src/%.c $(HDRS) | $(OBJ)
	$(SAY) CC $@
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(BIN)/%: $(OBJ)/%.o $(LIB_OBJS) | $(BIN)
	$(SAY) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)
$(OBJ) $(BIN) $(BUILD)/san/bin $(BUILD)/san/tests $(SOBJ):
	mkdir -p $@

# --- sanitizer build (what make check runs) ---------------------------------
$(SOBJ)/%.o: src/%.c $(HDRS) | $(SOBJ)
	$(SAY) CC-SAN $@
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) -c -o $@ $<
$(BUILD)/san/bin/%: $(SOBJ)/%.o $(SLIB_OBJS) | $(BUILD)/san/bin
	$(SAY) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)
$(BUILD)/san/tests/%: tests/unit/%.c tests/unit/testutil.h $(SLIB_OBJS) | $(BUILD)/san/tests
	$(SAY) TEST $@
	$(Q)$(CC) -iquote src $(ALL_CFLAGS) $(SAN_CFLAGS) $(CMOCKA_CFLAGS) -o $@ $< \
	    $(SLIB_OBJS) $(LDFLAGS) $(LDLIBS) $(CMOCKA_LIBS)
.PRECIOUS: $(SOBJ)/%.o $(OBJ)/%.o

# --- test tools from npm ----------------------------------------------------
# axe-core for browser.sh, at the version tests/tools/npm/package-lock.json
# pins, installed into the build tree and never into the source tree.  The
# files npm unpacks keep the package's old dates: touch the one make looks
# at, or every run would install again.
$(AXE): tests/tools/npm/package.json tests/tools/npm/package-lock.json
	$(SAY) NPM $@
	$(Q)mkdir -p $(BUILD)/npm
	$(Q)cp tests/tools/npm/package.json tests/tools/npm/package-lock.json \
	    $(BUILD)/npm/
	$(Q)cd $(BUILD)/npm && npm ci --ignore-scripts --no-audit --no-fund \
	    --loglevel=error
	$(Q)touch $@

# --- set-up -----------------------------------------------------------------
deps:
	@sh .ci/deps

run: deps all
	@mkdir -p var/inbox/new var/inbox/cur var/inbox/tmp
	./bin/postroomd -f -c config/postroom.conf

check: deps
	$(MAKE) $(SAN_BINS) $(SAN_TESTS) all $(AXE)
	BUILD=$(BUILD) sh tests/run.sh

bench: deps all
	sh bench/run.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(DATADIR)/templates $(DESTDIR)$(SYSCONFDIR)/postroom \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	install -m 755 bin/postroomd $(DESTDIR)$(SBINDIR)/postroomd
	install -m 755 bin/postroom $(DESTDIR)$(BINDIR)/postroom
	cp -R templates/. $(DESTDIR)$(DATADIR)/templates/
	install -m 644 README.md $(DESTDIR)$(DATADIR)/README.md
	install -m 644 systemd/postroom.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/postroom.conf
	install -m 644 config/postroom.conf \
	    $(DESTDIR)$(SYSCONFDIR)/postroom/postroom.conf.example
	for u in systemd/*.service systemd/*.timer; do \
	    sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
	        -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	        -e 's|@DATADIR@|$(DATADIR)|g' $$u \
	        > $(DESTDIR)$(UNITDIR)/$$(basename $$u); \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$$(basename $$u); \
	done

clean:
	rm -rf build bin build-*

# make fuzz: short libFuzzer runs over the parsers (clang).
include fuzz/Makefile.inc
