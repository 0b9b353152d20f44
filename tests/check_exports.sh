#!/bin/sh
# check_exports.sh LIB.so: fails when the shared library exports (defines in
# its dynamic symbol table) a function or object whose name does not start
# with goc_. The linker's own markers (_init, _fini, _edata, ...) are allowed.
set -eu
lib=${1:?usage: check_exports.sh path/to/libgoc.so}
nm=${NM:-nm}

symbols=$("$nm" -D --defined-only "$lib") || {
    echo "check_exports: $nm -D --defined-only $lib failed" >&2
    exit 1
}

# nm -D prints "ADDRESS TYPE NAME"; keep code and data (T t D d B b R r W w
# V v i u), drop versions (name@VER) and the linker's markers.
bad=$(printf '%s\n' "$symbols" | awk '
    NF >= 3 && $2 ~ /^[TtDdBbRrWwVviu]$/ {
        name = $3
        sub(/@.*/, "", name)
        if (name ~ /^goc_/ && name !~ /^goc__/) next  # goc__ is internal: hidden
        if (name ~ /^(_init|_fini|_edata|_end|__bss_start|_DYNAMIC|_GLOBAL_OFFSET_TABLE_|__dso_handle|__TMC_END__)$/) next
        print $2, name
    }')

total=$(printf '%s\n' "$symbols" | awk '$3 ~ /^goc_/' | wc -l)
if [ -n "$bad" ]; then
    echo "check_exports: $lib exports symbols outside the goc_ namespace:" >&2
    printf '%s\n' "$bad" | sed 's/^/  /' >&2
    echo "(mark internal functions static, or keep them without GOC_API: the library is built with -fvisibility=hidden)" >&2
    exit 1
fi
echo "check_exports: $lib exports $total goc_ symbols and nothing else"
