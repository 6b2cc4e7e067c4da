#!/bin/sh
# make-binary.sh - write the CSV test files that hold bytes an editor
# would mangle (Windows-1252, UTF-16, byte order marks, a workbook's
# magic), each as Excel writes it.  Run from anywhere; the files are
# committed, so this is only needed to change them.
cd "$(dirname "$0")" || exit 1

# Excel "CSV (Comma delimited)" on a UK Windows: Windows-1252, CRLF.
# e9 e, eb e-diaeresis, e2 a-circumflex, 92 right single quote, 80 euro.
printf 'Email,Name,Note\r\nrenee@example.org,Ren\351e O\222Brien,Caf\351 \200 fund\r\nzoe@example.org,Zo\353 Ch\342teau,\r\nplain@example.org,Plain Ascii,\r\n' \
    >windows-1252.csv

# Excel "CSV UTF-8 (Comma delimited)" in a French locale: a byte order
# mark, semicolons, CRLF.
printf '\357\273\277E-mail Address;Full Name;Organisation\r\nrenee@example.org;Ren\303\251e O\342\200\231Brien;Caf\303\251, Lyon\r\nzoe@example.org;"Zo\303\253; Ch\303\242teau";\r\n' \
    >utf8-bom-semicolon.csv

# Excel "Unicode Text (*.txt)": UTF-16LE with a byte order mark, tabs.
printf 'Email\tFirst Name\tLast Name\r\nrenee@example.org\tRen\303\251e\tO\342\200\231Brien\r\n' |
    iconv -f UTF-8 -t UTF-16LE | { printf '\377\376'; cat; } >utf16.txt

# A workbook saved as .xlsx and renamed .csv: a ZIP file.
printf 'PK\003\004\024\000\006\000\010\000\000\000!\000' >workbook.csv
