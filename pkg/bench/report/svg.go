package report

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/placer-dev/placer/pkg/bench/result"
)

// The charts are plain SVG written here, so that the page needs no script
// and no network, and the same files serve READMEs.

// palette colours profiles in the order given.
var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"}

func colour(i int) string { return palette[i%len(palette)] }

// series is one profile's line.
type series struct {
	name   string
	points [][2]float64
}

const (
	chartW, chartH = 720, 320
	marginL        = 64
	marginR        = 16
	marginT        = 48
	marginB        = 48
)

// niceMax rounds v up to 1, 2 or 5 times a power of ten, so axis labels
// read well.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func svgOpen(b *strings.Builder, w, h int, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`, w, h, w, h)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="white"/>`, w, h)
	fmt.Fprintf(b, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`, marginL, html.EscapeString(title))
}

// lineChart draws series over shared axes starting at zero.
func lineChart(title, xLabel, yLabel string, lines []series) string {
	var b strings.Builder
	svgOpen(&b, chartW, chartH, title)
	maxX, maxY := 0.0, 0.0
	for _, s := range lines {
		for _, p := range s.points {
			maxX, maxY = math.Max(maxX, p[0]), math.Max(maxY, p[1])
		}
	}
	maxX, maxY = niceMax(maxX), niceMax(maxY)
	plotW, plotH := float64(chartW-marginL-marginR), float64(chartH-marginT-marginB)
	x := func(v float64) float64 { return marginL + v/maxX*plotW }
	y := func(v float64) float64 { return marginT + plotH - v/maxY*plotH }
	axes(&b, maxX, maxY, xLabel, yLabel, x, y)
	for i, s := range lines {
		if len(s.points) == 0 {
			continue
		}
		var pts []string
		for _, p := range s.points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p[0]), y(p[1])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, colour(i), strings.Join(pts, " "))
		// A short series is marked point by point: one point draws no line.
		if len(s.points) <= 60 {
			for _, p := range s.points {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, x(p[0]), y(p[1]), colour(i))
			}
		}
	}
	legend(&b, lines)
	b.WriteString(`</svg>`)
	return b.String()
}

func axes(b *strings.Builder, maxX, maxY float64, xLabel, yLabel string, x, y func(float64) float64) {
	const ticks = 5
	for i := 0; i <= ticks; i++ {
		vy := maxY * float64(i) / ticks
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, marginL, chartW-marginR, y(vy), y(vy))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`, marginL-6, y(vy)+4, num(vy))
		vx := maxX * float64(i) / ticks
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(vx), chartH-marginB+16, num(vx))
	}
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#333"/>`, marginL, chartW-marginR, y(0), y(0))
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%.1f" stroke="#333"/>`, marginL, marginL, marginT, y(0))
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, marginL+(chartW-marginL-marginR)/2, chartH-8, html.EscapeString(xLabel))
	fmt.Fprintf(b, `<text transform="translate(14 %d) rotate(-90)" text-anchor="middle">%s</text>`, marginT+(chartH-marginT-marginB)/2, html.EscapeString(yLabel))
}

// legend names the profiles in a row under the title, clear of the plot.
func legend(b *strings.Builder, lines []series) {
	lx := marginL
	for i, s := range lines {
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="4" fill="%s"/>`, lx, 32, colour(i))
		fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`, lx+16, 38, html.EscapeString(s.name))
		lx += 16 + 7*len(s.name) + 24
	}
}

func num(v float64) string {
	switch {
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.2g", v)
	}
}

// barChart draws, per category, one horizontal bar per profile.
func barChart(title, unit string, categories []string, profiles []string, values [][]float64) string {
	rowH := 10*len(profiles) + 8
	h := marginT + rowH*len(categories) + marginB
	var b strings.Builder
	svgOpen(&b, chartW, h, title)
	maxV := 0.0
	for _, vs := range values {
		for _, v := range vs {
			maxV = math.Max(maxV, v)
		}
	}
	maxV = niceMax(maxV)
	const labelW = 220
	plotW := float64(chartW - labelW - marginR - 60)
	for c, cat := range categories {
		top := marginT + c*rowH
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-6, top+rowH/2+4, html.EscapeString(cat))
		for p := range profiles {
			v := values[p][c]
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="8" fill="%s"><title>%s: %s %s</title></rect>`,
				labelW, top+4+10*p, v/maxV*plotW, colour(p), html.EscapeString(profiles[p]), num(v), unit)
		}
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">0 – %s %s</text>`, labelW, h-20, num(maxV), html.EscapeString(unit))
	lines := make([]series, len(profiles))
	for i, p := range profiles {
		lines[i].name = p
	}
	legend(&b, lines)
	b.WriteString(`</svg>`)
	return b.String()
}

// heatMap draws one row per zone, one cell per node, coloured by the
// node's requested fraction of a resource (white empty, dark red full).
func heatMap(title string, nodes []result.NodeUsage, value func(result.NodeUsage) float64) string {
	var zones []string
	byZone := map[string][]result.NodeUsage{}
	for _, n := range nodes {
		if _, ok := byZone[n.Zone]; !ok {
			zones = append(zones, n.Zone)
		}
		byZone[n.Zone] = append(byZone[n.Zone], n)
	}
	widest := 1
	for _, z := range zones {
		widest = max(widest, len(byZone[z]))
	}
	const labelW = 80
	cols := min(widest, 100)
	cell := max(4, (chartW-labelW-marginR)/cols)
	rowsOf := func(n int) int { return (n + cols - 1) / cols }
	h := marginT + marginB
	for _, z := range zones {
		h += rowsOf(len(byZone[z]))*cell + 8
	}
	var b strings.Builder
	svgOpen(&b, chartW, h, title)
	top := marginT
	for _, z := range zones {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-6, top+cell, html.EscapeString(z))
		for i, n := range byZone[z] {
			v := math.Min(1, math.Max(0, value(n)))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#eee"><title>%s: %.0f%%</title></rect>`,
				labelW+(i%cols)*cell, top+(i/cols)*cell, cell, cell, heat(v), html.EscapeString(n.Name), 100*v)
		}
		top += rowsOf(len(byZone[z]))*cell + 8
	}
	for i := 0; i <= 10; i++ {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="20" height="10" fill="%s"/>`, labelW+i*20, h-30, heat(float64(i)/10))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">0%% … 100%% requested</text>`, labelW+230, h-21)
	b.WriteString(`</svg>`)
	return b.String()
}

// heat runs from white through orange to dark red.
func heat(v float64) string {
	r := 255 - int(75*v)
	g := int(255 * (1 - v) * (1 - 0.3*v))
	bl := int(255 * (1 - v) * (1 - v))
	return fmt.Sprintf("rgb(%d,%d,%d)", r, g, bl)
}
