package io.tether.benchmarks.load.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.util.List;
import java.util.Locale;

/**
 * Draws one chart panel with Java2D: grouped bars on a logarithmic axis (latency percentiles)
 * or lines over time on a linear axis (rates), with axes, ticks, a title and a legend.
 */
final class Chart {
  /** One named series of values. */
  record Series(String name, Color color, double[] values) {}

  private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 14);
  private static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
  private static final Color GRID = new Color(225, 225, 225);

  private Chart() {}

  /** Bars per category (x) and series, on a log10 axis in {@code unit}. */
  static void bars(Graphics2D g, Rectangle area, String title, String unit, List<String> categories,
      List<Series> series) {
    Rectangle plot = frame(g, area, title);
    double max = 1e-3;
    double min = Double.MAX_VALUE;
    for (Series s : series) {
      for (double v : s.values()) {
        max = Math.max(max, v);
        if (v > 0) {
          min = Math.min(min, v);
        }
      }
    }
    double lo = Math.floor(Math.log10(min == Double.MAX_VALUE ? 0.1 : min));
    double hi = Math.ceil(Math.log10(max * 2));
    if (hi <= lo) {
      hi = lo + 1;
    }
    g.setFont(LABEL);
    for (double e = lo; e <= hi; e++) {
      int y = (int) (plot.y + plot.height - (e - lo) / (hi - lo) * plot.height);
      g.setColor(GRID);
      g.drawLine(plot.x, y, plot.x + plot.width, y);
      g.setColor(Color.DARK_GRAY);
      g.drawString(format(Math.pow(10, e)) + " " + unit, area.x + 4, y + 4);
    }
    int groups = categories.size();
    double groupWidth = (double) plot.width / groups;
    double barWidth = groupWidth * 0.8 / Math.max(1, series.size());
    for (int c = 0; c < groups; c++) {
      for (int s = 0; s < series.size(); s++) {
        double v = c < series.get(s).values().length ? series.get(s).values()[c] : 0;
        if (v <= 0) {
          continue;
        }
        double frac = (Math.log10(v) - lo) / (hi - lo);
        int h = (int) Math.max(1, frac * plot.height);
        int x = (int) (plot.x + c * groupWidth + groupWidth * 0.1 + s * barWidth);
        g.setColor(series.get(s).color());
        g.fillRect(x, plot.y + plot.height - h, (int) Math.max(1, barWidth - 2), h);
        g.setColor(Color.BLACK);
        g.drawString(format(v), x, plot.y + plot.height - h - 3);
      }
      g.setColor(Color.DARK_GRAY);
      g.drawString(categories.get(c), (int) (plot.x + c * groupWidth + groupWidth * 0.35),
          plot.y + plot.height + 15);
    }
    legend(g, plot, series);
  }

  /** One line per series over seconds (x), on a linear axis from zero. */
  static void lines(Graphics2D g, Rectangle area, String title, String unit, List<Series> series) {
    Rectangle plot = frame(g, area, title);
    double max = 1;
    int n = 1;
    for (Series s : series) {
      n = Math.max(n, s.values().length);
      for (double v : s.values()) {
        max = Math.max(max, v);
      }
    }
    max = niceCeiling(max);
    g.setFont(LABEL);
    for (int i = 0; i <= 4; i++) {
      int y = plot.y + plot.height - i * plot.height / 4;
      g.setColor(GRID);
      g.drawLine(plot.x, y, plot.x + plot.width, y);
      g.setColor(Color.DARK_GRAY);
      g.drawString(format(max * i / 4) + " " + unit, area.x + 4, y + 4);
    }
    int step = Math.max(1, n / 10);
    for (int x = 0; x < n; x += step) {
      g.drawString(x + " s", plot.x + x * plot.width / Math.max(1, n - 1) - 6,
          plot.y + plot.height + 15);
    }
    g.setStroke(new BasicStroke(2f));
    for (Series s : series) {
      g.setColor(s.color());
      double[] v = s.values();
      for (int i = 1; i < v.length; i++) {
        int x0 = plot.x + (i - 1) * plot.width / Math.max(1, n - 1);
        int x1 = plot.x + i * plot.width / Math.max(1, n - 1);
        int y0 = (int) (plot.y + plot.height - v[i - 1] / max * plot.height);
        int y1 = (int) (plot.y + plot.height - v[i] / max * plot.height);
        g.drawLine(x0, y0, x1, y1);
      }
    }
    g.setStroke(new BasicStroke(1f));
    legend(g, plot, series);
  }

  private static Rectangle frame(Graphics2D g, Rectangle area, String title) {
    g.setColor(Color.WHITE);
    g.fill(area);
    g.setColor(Color.BLACK);
    g.setFont(TITLE);
    g.drawString(title, area.x + 10, area.y + 20);
    Rectangle plot = new Rectangle(area.x + 90, area.y + 35, area.width - 110, area.height - 65);
    g.setColor(Color.GRAY);
    g.drawLine(plot.x, plot.y, plot.x, plot.y + plot.height);
    g.drawLine(plot.x, plot.y + plot.height, plot.x + plot.width, plot.y + plot.height);
    return plot;
  }

  private static void legend(Graphics2D g, Rectangle plot, List<Series> series) {
    g.setFont(LABEL);
    int x = plot.x + plot.width - 110 * series.size();
    int y = plot.y - 28;
    for (Series s : series) {
      g.setColor(s.color());
      g.fillRect(x, y, 12, 12);
      g.setColor(Color.BLACK);
      g.drawString(s.name(), x + 18, y + 11);
      x += 110;
    }
  }

  private static double niceCeiling(double v) {
    double p = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * p >= v) {
        return m * p;
      }
    }
    return 10 * p;
  }

  static String format(double v) {
    if (v >= 1e6) {
      return String.format(Locale.ROOT, "%.1fM", v / 1e6);
    }
    if (v >= 1e4) {
      return String.format(Locale.ROOT, "%.0fk", v / 1e3);
    }
    if (v >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (v >= 1) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }
}
