#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Checks that the linked purgatory honours the contract in include/purgatory.h
# before it is embedded in the loader: no relocations, the entry jump at byte
# 0 landing past the parameter block, the block at PURGATORY_PARAMS_OFFSET
# with the magic in place, a page-sized memsz, and no absolute addresses in
# the code. Run by the build (a failure stops it) and again by 'make check'.
#
# usage: check-blob.sh purgatory.elf purgatory.bin purgatory.h
# environment: READELF, OBJDUMP (the disassembly check is skipped without objdump)

set -u

elf=$1
bin=$2
header=$3
READELF=${READELF:-readelf}
OBJDUMP=${OBJDUMP:-objdump}
status=0

fail()
{
	echo "check-blob.sh: $elf: $*" >&2
	status=1
}

# Value of a symbol of the ELF file, as a shell number; empty if it is missing.
symbol()
{
	value=$("$READELF" -sW "$elf" | awk -v name="$1" '$8 == name { print $2; exit }')
	[ -n "$value" ] && echo $((0x$value))
}

# A #define from purgatory.h, without any integer suffix.
define()
{
	awk -v name="$1" '$1 == "#define" && $2 == name {
		sub(/[uUlL]+$/, "", $3)
		print $3
		exit
	}' "$header"
}

# Bytes of the blob as lower-case hex pairs separated by spaces.
bytes()
{
	od -An -v -tx1 -j "$1" -N "$2" "$bin" | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

for f in "$elf" "$bin" "$header"; do
	if [ ! -r "$f" ]; then
		echo "check-blob.sh: cannot read $f" >&2
		exit 1
	fi
done

# 1. Relocations: there must be none, the loader applies none.
relocs=$("$READELF" -rW "$elf") || exit 1
if echo "$relocs" | grep -q '^Relocation section'; then
	fail "purgatory must be free of relocations, but the link left these:"
	echo "$relocs" >&2
fi

# 2. The ELF magic must not start the blob, or the kernel would take it for the elfcorehdr.
blob_size=$(wc -c < "$bin" | tr -d ' ')
head=$(bytes 0 5)
case "$head" in
"7f 45 4c 46"*)
	fail "the blob starts with the ELF magic; the kernel would take it for the elfcorehdr"
	;;
esac

# 3. Layout symbols against the contract.
params_offset=$(define PURGATORY_PARAMS_OFFSET)
start=$(symbol purgatory_start)
params=$(symbol purgatory_params)
params_end=$(symbol __purgatory_params_end)
blob_end=$(symbol __purgatory_blob_end)
memsz=$(symbol __purgatory_memsz)
for v in params_offset start params params_end blob_end memsz; do
	eval "[ -n \"\$$v\" ]" || { fail "cannot find $v"; exit 1; }
done

[ "$start" -eq 0 ] || fail "purgatory_start is at $start, not at byte 0"
[ "$params" -eq $((params_offset)) ] ||
	fail "purgatory_params is at $params, PURGATORY_PARAMS_OFFSET is $params_offset"
[ "$blob_end" -eq "$blob_size" ] ||
	fail "the blob is $blob_size bytes but the linker script says $blob_end"
[ $((memsz % 4096)) -eq 0 ] || fail "memsz $memsz is not a whole number of pages"
[ "$memsz" -ge "$blob_size" ] || fail "memsz $memsz is smaller than the blob ($blob_size bytes)"

# 4. Byte 0 jumps past the parameter block and stays inside the blob.
set -- $head
case "$1" in
eb)
	rel=$((0x$2))
	[ "$rel" -lt 128 ] || rel=$((rel - 256))
	target=$((2 + rel))
	;;
e9)
	rel=$((0x$5$4$3$2))
	[ "$rel" -lt 2147483648 ] || rel=$((rel - 4294967296))
	target=$((5 + rel))
	;;
*)
	fail "byte 0 is 0x$1, not a jmp"
	target=
	;;
esac
if [ -n "$target" ] && { [ "$target" -lt "$params_end" ] || [ "$target" -ge "$blob_size" ]; }; then
	fail "the jump at byte 0 lands at $target, not between the end of the parameter block" \
		"($params_end) and the end of the blob ($blob_size)"
fi

# 5. The magic is in place, so the loader can recognise the layout.
magic=$(define PURGATORY_MAGIC | sed 's/^0[xX]//' | tr 'A-F' 'a-f')
stored=$(bytes "$params" 8 | awk '{ for (i = NF; i > 0; i--) printf "%s", $i; print "" }')
[ "$stored" = "$magic" ] || fail "the parameter block holds magic $stored, purgatory.h says $magic"

# 6. The code: no absolute memory operands, %fs/%gs (their bases are zero once
#    purgatory has loaded its own segments), %rip-relative data inside memsz and
#    branches inside the blob.
if ! command -v "$OBJDUMP" > /dev/null 2>&1; then
	echo "check-blob.sh: $OBJDUMP not found, skipping the disassembly check" >&2
	exit $status
fi
"$OBJDUMP" -d -M intel --no-show-raw-insn "$elf" > "$bin.dis" || exit 1
bad=$(awk -v memsz="$memsz" -v blob="$blob_size" '
	function num(hex,    i, n) {
		n = 0
		hex = tolower(hex)
		for (i = 1; i <= length(hex); i++)
			n = n * 16 + index("0123456789abcdef", substr(hex, i, 1)) - 1
		return n
	}
	/^ *[0-9a-f]+:\t/ {
		insn = $0
		sub(/^ *[0-9a-f]+:\t/, "", insn)
		if (insn ~ /(cs|ds|es|fs|gs|ss):(0x)?[0-9a-f]+/ || insn ~ /(fs|gs):/) {
			print "absolute or %fs/%gs operand: " $0
			next
		}
		if (insn ~ /\[rip[+-]/ && match(insn, /# [0-9a-f]+/)) {
			if (num(substr(insn, RSTART + 2, RLENGTH - 2)) >= memsz)
				print "%rip-relative reference beyond memsz: " $0
			next
		}
		if (insn ~ /^(call|jmp|j[a-z]+|loop[a-z]*) +[0-9a-f]+ </) {
			split(insn, f, / +/)
			if (num(f[2]) >= blob)
				print "branch outside the blob: " $0
		}
	}' "$bin.dis")
rm -f "$bin.dis"
if [ -n "$bad" ]; then
	fail "the code is not position independent:"
	echo "$bad" >&2
fi

exit $status
