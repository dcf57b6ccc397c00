# The table of run_peers.sh and run_quant_peers.sh, from rows "engine<TAB>batch<TAB>threads<TAB>
# ms_per_image<TAB>round": each engine's median over rounds, its thread scaling, and ratios of two
# engines' times, each the median over rounds of the ratio within one round (a machine whose
# speed drifts between rounds slows both sides of a same-round ratio alike).
#
#   awk -F'\t' -v ratios="NAME=NUM/DEN ..." [-v ratio_row=ENGINE] -f round_table.awk ROWS
#
# Each ratio is ms(NUM) / ms(DEN) at the same batch and thread count. With ratio_row, the ratios
# are columns of that engine's rows; without, a second table has one row per batch and threads.

function median(list,    n, v, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; ++i) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; --j) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}

# ms[num] / ms[den] of each round that has both (keys engine,batch,threads), as a list for median().
function same_round_ratios(num, den,    list, r) {
    list = ""
    for (r in round) if ((num "," r) in ms && (den "," r) in ms) list = list " " ms[num "," r] / ms[den "," r]
    return list
}

# Ratio i at batch bb and threads tt, formatted, or "-" when no round has both times.
function ratio_cell(i, bb, tt,    list) {
    list = same_round_ratios(num[i] "," bb "," tt, den[i] "," bb "," tt)
    return sprintf(" %" width[i] "s", list != "" ? sprintf("%.2f", median(list)) : "-")
}

BEGIN {
    nr = split(ratios, spec, " ")
    for (i = 1; i <= nr; ++i) {
        eq = index(spec[i], "=")
        name[i] = substr(spec[i], 1, eq - 1)  # may hold a slash itself
        fraction = substr(spec[i], eq + 1)
        slash = index(fraction, "/")
        num[i] = substr(fraction, 1, slash - 1)
        den[i] = substr(fraction, slash + 1)
        width[i] = length(name[i])
    }
}

{
    k = $1 "," $2 "," $3
    ms[k "," $5] = $4
    all[k] = all[k] " " $4
    if (!(k in seen)) { seen[k] = 1; key[++nk] = k; eng[nk] = $1; b[nk] = $2; t[nk] = $3 }
    if (!(($2 "," $3) in setting)) { setting[$2 "," $3] = 1; sb[++ns] = $2; st[ns] = $3 }
    round[$5] = 1
}

END {
    header = sprintf("%-16s %5s %7s %10s %8s", "engine", "batch", "threads", "ms/image", "scaling")
    if (ratio_row != "") for (i = 1; i <= nr; ++i) header = header sprintf(" %" width[i] "s", name[i])
    print header
    for (e = 1; e <= nk; ++e) {
        scaling = "-"
        one = eng[e] "," b[e] ",1"
        if (t[e] != 1 && (one in all)) {
            list = same_round_ratios(one, key[e])
            if (list != "") scaling = sprintf("%.2fx", median(list))
        }
        line = sprintf("%-16s %5d %7d %10.2f %8s", eng[e], b[e], t[e], median(all[key[e]]), scaling)
        if (ratio_row != "" && eng[e] == ratio_row) for (i = 1; i <= nr; ++i) line = line ratio_cell(i, b[e], t[e])
        print line
    }
    if (ratio_row != "" || nr == 0) exit
    print ""
    for (i = 1; i <= nr; ++i) print "  " name[i] " = " num[i] " ms / " den[i] " ms"
    header = sprintf("%5s %7s", "batch", "threads")
    for (i = 1; i <= nr; ++i) header = header sprintf(" %" width[i] "s", name[i])
    print header
    for (s = 1; s <= ns; ++s) {
        line = sprintf("%5d %7d", sb[s], st[s])
        for (i = 1; i <= nr; ++i) line = line ratio_cell(i, sb[s], st[s])
        print line
    }
}
