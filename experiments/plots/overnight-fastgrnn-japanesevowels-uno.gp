# overnight-fastgrnn-japanesevowels-uno.png, drawn by `tune plot` (mcutune). Restyle here, then redraw in this directory: gnuplot overnight-fastgrnn-japanesevowels-uno.gp
#   overnight-fastgrnn-japanesevowels-uno-run1.dat: genetic / RAM 1024 B, from out/batch-overnight/runs/fastgrnn-japanesevowels-uno-ram1024-genetic-s0/log.jsonl
#   overnight-fastgrnn-japanesevowels-uno-run2.dat: greedy / RAM 1024 B, from out/batch-overnight/runs/fastgrnn-japanesevowels-uno-ram1024-greedy-s0/log.jsonl
#   overnight-fastgrnn-japanesevowels-uno-run3.dat: genetic / RAM 2048 B, from out/batch-overnight/runs/fastgrnn-japanesevowels-uno-ram2048-genetic-s0/log.jsonl
#   overnight-fastgrnn-japanesevowels-uno-run4.dat: greedy / RAM 2048 B, from out/batch-overnight/runs/fastgrnn-japanesevowels-uno-ram2048-greedy-s0/log.jsonl
# Each .dat file's blocks (plot ... index N): 0 ok candidates; 1 other scored candidates (over a budget or the loss limit); 2 Pareto front of the ok candidates in the figure's axes, by x; 3 the pick as drawn (measured where it was); 4 the pick as estimated, then as measured (the line between them); then one per baseline (all16, all8).
# Columns: 1 name, 2 val_accuracy_pct, 3 test_accuracy_pct, 4 latency_ms, 5 ram_bytes, 6 flash_bytes; NaN where a figure is missing.
set terminal pngcairo size 1200,680 noenhanced font "sans,12" background rgb "white"
P = 1  # the size of every point symbol, relative
set output "overnight-fastgrnn-japanesevowels-uno.png"
unset arrow
unset label
set title "fastgrnn-japanesevowels on uno: validation accuracy against latency\n4 runs"
set xlabel "latency per inference (ms on uno at 16 MHz)"
set ylabel "validation accuracy (%)"
set xrange [0:150.083]
set yrange [93.0714:99.0714]
set format x "%g"
set format y "%g"
set border 3
set tics nomirror out
set mxtics
set mytics
set grid back lc rgb "#e4e4e4" lw 1
set key outside below center horizontal Left reverse maxcols 3 spacing 1.2 samplen 2.5 width 1 height 1
set arrow from graph 0, first 97.1429 to graph 1, first 97.1429 nohead dt 2 lw 1.5 lc rgb "#444444" back
set arrow from first 22.364, first 98.5714 to graph 1, first 98.5714 nohead lw 2.5 lc rgb "#1f77b4" back
set arrow from first 28.0586, first 98.5714 to graph 1, first 98.5714 nohead lw 2.5 lc rgb "#ff7f0e" back
set arrow from first 22.364, first 98.5714 to graph 1, first 98.5714 nohead lw 2.5 lc rgb "#2ca02c" back
set arrow from first 28.0586, first 98.5714 to graph 1, first 98.5714 nohead lw 2.5 lc rgb "#d62728" back
set label "262 candidates below 93.1% not shown" at graph 0.99, graph 0.03 right textcolor rgb "#555555" front
plot \
    "overnight-fastgrnn-japanesevowels-uno-run1.dat" index 0 using 4:2 with points pt 7 ps 0.5*P lc rgb "#A01f77b4" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run1.dat" index 2 using 4:2 with steps lw 2.5 lc rgb "#1f77b4" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run1.dat" index 2 using 4:2 with points pt 7 ps 0.9*P lc rgb "#1f77b4" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run1.dat" index 4 using 4:2 with lines dt 3 lw 1.5 lc rgb "#1f77b4" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run1.dat" index 4 every ::0::0 using 4:2 with points pt 8 ps 1.8*P lw 1.5 lc rgb "#1f77b4" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run1.dat" index 3 using 4:2 with points pt 9 ps 2.8*P lc rgb "#1f77b4" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run1.dat" index 3 using 4:2 with points pt 8 ps 2.8*P lw 1.5 lc rgb "black" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run1.dat" index 5 using 4:2 with points pt 5 ps 1.8*P lc rgb "#1f77b4" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run1.dat" index 5 using 4:2 with points pt 4 ps 1.8*P lw 1.5 lc rgb "black" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run1.dat" index 6 using 4:2 with points pt 13 ps 1.8*P lc rgb "#1f77b4" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run1.dat" index 6 using 4:2 with points pt 12 ps 1.8*P lw 1.5 lc rgb "black" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run2.dat" index 0 using 4:2 with points pt 7 ps 0.5*P lc rgb "#A0ff7f0e" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run2.dat" index 2 using 4:2 with steps lw 2.5 lc rgb "#ff7f0e" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run2.dat" index 2 using 4:2 with points pt 7 ps 0.9*P lc rgb "#ff7f0e" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run2.dat" index 4 using 4:2 with lines dt 3 lw 1.5 lc rgb "#ff7f0e" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run2.dat" index 4 every ::0::0 using 4:2 with points pt 8 ps 1.8*P lw 1.5 lc rgb "#ff7f0e" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run2.dat" index 3 using 4:2 with points pt 9 ps 2.8*P lc rgb "#ff7f0e" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run2.dat" index 3 using 4:2 with points pt 8 ps 2.8*P lw 1.5 lc rgb "black" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run2.dat" index 5 using 4:2 with points pt 5 ps 1.8*P lc rgb "#ff7f0e" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run2.dat" index 5 using 4:2 with points pt 4 ps 1.8*P lw 1.5 lc rgb "black" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run2.dat" index 6 using 4:2 with points pt 13 ps 1.8*P lc rgb "#ff7f0e" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run2.dat" index 6 using 4:2 with points pt 12 ps 1.8*P lw 1.5 lc rgb "black" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run3.dat" index 0 using 4:2 with points pt 7 ps 0.5*P lc rgb "#A02ca02c" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run3.dat" index 2 using 4:2 with steps lw 2.5 lc rgb "#2ca02c" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run3.dat" index 2 using 4:2 with points pt 7 ps 0.9*P lc rgb "#2ca02c" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run3.dat" index 4 using 4:2 with lines dt 3 lw 1.5 lc rgb "#2ca02c" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run3.dat" index 4 every ::0::0 using 4:2 with points pt 8 ps 1.8*P lw 1.5 lc rgb "#2ca02c" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run3.dat" index 3 using 4:2 with points pt 9 ps 2.8*P lc rgb "#2ca02c" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run3.dat" index 3 using 4:2 with points pt 8 ps 2.8*P lw 1.5 lc rgb "black" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run3.dat" index 5 using 4:2 with points pt 5 ps 1.8*P lc rgb "#2ca02c" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run3.dat" index 5 using 4:2 with points pt 4 ps 1.8*P lw 1.5 lc rgb "black" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run3.dat" index 6 using 4:2 with points pt 13 ps 1.8*P lc rgb "#2ca02c" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run3.dat" index 6 using 4:2 with points pt 12 ps 1.8*P lw 1.5 lc rgb "black" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run4.dat" index 0 using 4:2 with points pt 7 ps 0.5*P lc rgb "#A0d62728" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run4.dat" index 2 using 4:2 with steps lw 2.5 lc rgb "#d62728" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run4.dat" index 2 using 4:2 with points pt 7 ps 0.9*P lc rgb "#d62728" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run4.dat" index 4 using 4:2 with lines dt 3 lw 1.5 lc rgb "#d62728" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run4.dat" index 4 every ::0::0 using 4:2 with points pt 8 ps 1.8*P lw 1.5 lc rgb "#d62728" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run4.dat" index 3 using 4:2 with points pt 9 ps 2.8*P lc rgb "#d62728" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run4.dat" index 3 using 4:2 with points pt 8 ps 2.8*P lw 1.5 lc rgb "black" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run4.dat" index 5 using 4:2 with points pt 5 ps 1.8*P lc rgb "#d62728" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run4.dat" index 5 using 4:2 with points pt 4 ps 1.8*P lw 1.5 lc rgb "black" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run4.dat" index 6 using 4:2 with points pt 13 ps 1.8*P lc rgb "#d62728" notitle, \
    "overnight-fastgrnn-japanesevowels-uno-run4.dat" index 6 using 4:2 with points pt 12 ps 1.8*P lw 1.5 lc rgb "black" notitle, \
    keyentry with lines lw 6 lc rgb "#1f77b4" title "genetic / RAM 1024 B", \
    keyentry with lines lw 6 lc rgb "#ff7f0e" title "greedy / RAM 1024 B", \
    keyentry with lines lw 6 lc rgb "#2ca02c" title "genetic / RAM 2048 B", \
    keyentry with lines lw 6 lc rgb "#d62728" title "greedy / RAM 2048 B", \
    keyentry with points pt 7 ps 0.6*P lc rgb "#80555555" title "candidates within the budgets", \
    keyentry with linespoints pt 7 ps 0.9*P lw 2.5 lc rgb "#555555" title "Pareto front (these two axes)", \
    keyentry with points pt 9 ps 2.2*P lc rgb "#555555" title "pick, measured on the board's simulator", \
    keyentry with linespoints pt 8 ps 1.4*P dt 3 lw 1.5 lc rgb "#555555" title "pick as the cost model estimated it", \
    keyentry with points pt 5 ps 1.6*P lc rgb "#555555" title "uniform 16-bit (all16)", \
    keyentry with points pt 13 ps 1.6*P lc rgb "#555555" title "uniform 8-bit (all8)", \
    keyentry with lines dt 2 lw 1.5 lc rgb "#444444" title "float model, 97.14%"
