# shellcheck shell=bash
# apt-sources.sh: this machine's apt sources, parsed the way apt reads
# them. Sourced by scripts/build/apt-deb-src and
# scripts/build/kernel-tree-newest, so that both read them alike and
# neither ever names an archive's host.
#
# apt_source_files ETC [SKIP]: the source files apt reads under ETC (an
#   etc/apt directory), in apt's order, one a line; SKIP is left out.
# apt_source_records FILE...: one record per (type, URI, suite) of the deb
#   and deb-src entries of FILEs (*.sources: deb822; else one-line):
#     TYPE \t URI \t SUITE \t COMPONENTS \t SIGNED-BY \t FILE
#   with the lines of a multi-line Signed-By (an inline key) joined by \001.

# In sources.list.d, only names of [A-Za-z0-9_.-] ending in .list or
# .sources count (foo.list.disabled does not).
apt_source_files() {
	local etc=$1 skip=${2:-} f
	[ ! -f "$etc/sources.list" ] || printf '%s\n' "$etc/sources.list"
	for f in "$etc"/sources.list.d/*; do
		[ -f "$f" ] || continue
		[ "$f" != "$skip" ] || continue
		[[ ${f##*/} =~ ^[A-Za-z0-9_.-]+\.(list|sources)$ ]] || continue
		printf '%s\n' "$f"
	done
}

# One-line format: deb [options] URI SUITE [COMPONENT...]; "#" to the end
# of the line is a comment.
# shellcheck disable=SC2016 # awk programs
APT_SOURCES_ONELINE_AWK='
{
	line = $0
	sub(/#.*/, "", line)
	n = split(line, w)
	if (n == 0 || (w[1] != "deb" && w[1] != "deb-src"))
		next
	i = 2
	sb = ""
	if (substr(w[2], 1, 1) == "[") {
		opts = ""
		closed = 0
		for (; i <= n; i++) {
			opts = opts " " w[i]
			if (w[i] ~ /\]$/) {
				closed = 1
				i++
				break
			}
		}
		if (!closed)
			next
		gsub(/[][]/, " ", opts)
		m = split(opts, o)
		for (j = 1; j <= m; j++)
			if (o[j] ~ /^signed-by=/)
				sb = substr(o[j], 11)
	}
	if (i + 1 > n)
		next
	comps = ""
	for (j = i + 2; j <= n; j++)
		comps = comps (comps == "" ? "" : " ") w[j]
	print w[1] "\t" w[i] "\t" w[i + 1] "\t" comps "\t" sb "\t" FILENAME
}'

# deb822: stanzas separated by blank lines, "Field: value" with
# continuation lines indented, "#" lines are comments; "Enabled: no" turns
# a stanza off.
# shellcheck disable=SC2016
APT_SOURCES_DEB822_AWK='
function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}
function words(s,   a, k, r, x) {
	k = split(s, a)
	r = ""
	for (x = 1; x <= k; x++)
		r = r (r == "" ? "" : " ") a[x]
	return r
}
function flush(   en, nt, nu, ns, T, U, S, a, b, c, comps, sb) {
	if (nfields > 0) {
		en = tolower(words(f["enabled"]))
		if (en != "no" && en != "false" && en != "off" && en != "without" && en != "disable") {
			nt = split(f["types"], T)
			nu = split(f["uris"], U)
			ns = split(f["suites"], S)
			comps = words(f["components"])
			sb = f["signed-by"]
			gsub(/\n/, "\001", sb)
			for (a = 1; a <= nt; a++) {
				if (T[a] != "deb" && T[a] != "deb-src")
					continue
				for (b = 1; b <= nu; b++)
					for (c = 1; c <= ns; c++)
						print T[a] "\t" U[b] "\t" S[c] "\t" comps "\t" sb "\t" FILENAME
			}
		}
	}
	split("", f)
	nfields = 0
	cur = ""
}
/^#/ { next }
/^[ \t]*$/ { flush(); next }
/^[ \t]/ { if (cur != "") f[cur] = f[cur] "\n" $0; next }
{
	i = index($0, ":")
	if (i == 0) {
		cur = ""
		next
	}
	cur = tolower(trim(substr($0, 1, i - 1)))
	f[cur] = trim(substr($0, i + 1))
	nfields++
}
END { flush() }'

apt_source_records() {
	local f
	for f in "$@"; do
		case "$f" in
		*.sources) awk "$APT_SOURCES_DEB822_AWK" "$f" ;;
		*) awk "$APT_SOURCES_ONELINE_AWK" "$f" ;;
		esac
	done
}
