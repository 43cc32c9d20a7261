# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/bench/bench.gp: the plots of make bench, run by run-bench.sh in its output directory
# (gnuplot from Debian's gnuplot-nox) on the data files bench-report.py writes there:
#   ops.dat        N, then xenvirtd/libvirtd ops/s of lookup_info, list, dumpxml, concurrency-64, connect
#   list-cost.dat  N, server CPU and wall-clock microseconds per listed domain, xenvirtd/libvirtd
set datafile missing "NaN"
set terminal pngcairo size 1400,700 font ",10"
set output "bench.png"
set multiplot layout 1,2 title "xenvirtd (solid) against libvirtd 9.0 test driver (dashed)"

set logscale xy
set grid
set key below maxrows 4 font ",9"
set xlabel "domains N"
set ylabel "operations/s"
set title "throughput against N"
plot "ops.dat" using 1:2 with linespoints lw 2 lc 1 pt 7 title "lookup+getinfo xenvirtd", \
     ""        using 1:3 with linespoints lw 2 lc 1 pt 6 dt 2 title "lookup+getinfo libvirtd", \
     ""        using 1:4 with linespoints lw 2 lc 2 pt 7 title "list --all xenvirtd", \
     ""        using 1:5 with linespoints lw 2 lc 2 pt 6 dt 2 title "list --all libvirtd", \
     ""        using 1:6 with linespoints lw 2 lc 3 pt 7 title "dumpxml xenvirtd", \
     ""        using 1:7 with linespoints lw 2 lc 3 pt 6 dt 2 title "dumpxml libvirtd", \
     ""        using 1:8 with linespoints lw 2 lc 4 pt 7 title "64 conns xenvirtd", \
     ""        using 1:9 with linespoints lw 2 lc 4 pt 6 dt 2 title "64 conns libvirtd"

set ylabel "microseconds per listed domain"
set title "list --all: cost per listed domain (log-log)"
plot "list-cost.dat" using 1:2 with linespoints lw 2 lc 1 pt 7 title "server CPU xenvirtd", \
     ""              using 1:3 with linespoints lw 2 lc 1 pt 6 dt 2 title "server CPU libvirtd", \
     ""              using 1:4 with linespoints lw 2 lc 2 pt 7 title "wall xenvirtd", \
     ""              using 1:5 with linespoints lw 2 lc 2 pt 6 dt 2 title "wall libvirtd"
unset multiplot

set terminal pngcairo size 800,560 font ",10"
set output "list-cost.png"
set key below maxrows 2 font ",9"
set title "list --all: microseconds per listed domain against N (flat = linear cost)"
replot
