"""P5: in a real browser, how long a Step at the default size takes to redraw the dashboard.

Starts ``partnersim dashboard`` on a free port of 127.0.0.1, opens it in Debian's
chromium (Playwright) with every request outside 127.0.0.1 blocked, presses
Step ``--steps`` times and times each one from the click until the month label
shows the next month and both figures (the network and the time series) hold
new, decoded images. Prints the median and other figures; target: median <= 300 ms.

    .venv/bin/python benchmarks/bench_p5_dashboard.py [--steps 20] [--warmup 3]

Needs: ``apt-get install -y chromium``, the ``playwright`` Python package (not
its browsers), and the prepared assets (``partnersim dashboard --prepare-assets``).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time

from playwright.sync_api import sync_playwright

from partnersim.dashboard.figures import NetworkPlot, SeriesPlot
from partnersim.dashboard.server import CHROMIUM_ARGS, DashboardProcess, block_non_local
from partnersim.dashboard.session import build_model, default_scenario
from partnersim.params import DEFAULTS

TARGET_MS = 300.0

TIME_STEP_JS = """
async () => {
  const status = () => document.querySelector('.partnersim-status').innerText;
  const img = (name) => document.querySelector('img.partnersim-' + name);
  const before = {s: status(), n: img('network').src, t: img('series').src};
  const month = Number(/Month (\\d+)/.exec(before.s)[1]);
  const target = 'Month ' + (month + 1) + ':';
  const button = [...document.querySelectorAll('button')]
      .find(b => b.innerText.trim().toUpperCase() === 'STEP');
  const t0 = performance.now();
  button.click();
  await new Promise((resolve, reject) => {
    const limit = t0 + 20000;
    const check = () => {
      const n = img('network'), t = img('series');
      if (status().startsWith(target) && n.src !== before.n && t.src !== before.t) resolve();
      else if (performance.now() > limit) reject(new Error('no redraw within 20 s'));
      else requestAnimationFrame(check);
    };
    check();
  });
  await Promise.all([img('network').decode(), img('series').decode()]);
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}
"""


def server_side_ms(n: int = 20) -> dict[str, float]:
    """Median server-side cost of one step's model work and figure rendering, in ms."""
    sc = default_scenario()
    model = build_model(sc.params.model_dump(), sc.seed, sc.interventions)
    for _ in range(24):
        model.step()
    net, series = NetworkPlot(model), SeriesPlot(model.horizon)
    net.render(model), series.render(model)
    times: dict[str, list[float]] = {"model step": [], "network figure": [], "time series": []}
    for _ in range(n):
        t0 = time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        net.render(model)
        t2 = time.perf_counter()
        series.render(model)
        t3 = time.perf_counter()
        times["model step"].append(t1 - t0)
        times["network figure"].append(t2 - t1)
        times["time series"].append(t3 - t2)
    return {k: 1000 * statistics.median(v) for k, v in times.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    args = ap.parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        print("bench_p5: chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 2

    blocked: list[str] = []
    errors: list[str] = []
    with DashboardProcess() as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        block_non_local(context, blocked)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        t0 = time.perf_counter()
        page.goto(server.url)
        page.locator(".partnersim-status").get_by_text("Month 0:").wait_for(timeout=60_000)
        load_s = time.perf_counter() - t0
        for _ in range(args.warmup):
            page.evaluate(TIME_STEP_JS)
        step_ms = [float(page.evaluate(TIME_STEP_JS)) for _ in range(args.steps)]
        browser.close()

    server_ms = server_side_ms()
    med = statistics.median(step_ms)
    q = statistics.quantiles(step_ms, n=10)
    print(f"P5 dashboard step redraw, default scenario ({DEFAULTS['n_staff']} staff), "
          f"{args.steps} steps after {args.warmup} warm-up steps, chromium (headless)")
    print(f"  page load to first render: {load_s:.2f} s")
    print(f"  step -> redraw: median {med:.0f} ms, p10 {q[0]:.0f} ms, p90 {q[-1]:.0f} ms, "
          f"min {min(step_ms):.0f} ms, max {max(step_ms):.0f} ms")
    print("  server side (median, in-process): " + ", ".join(
        f"{k} {v:.0f} ms" for k, v in server_ms.items()))
    print(f"  requests blocked (outside 127.0.0.1): {len(blocked)}; page errors: {len(errors)}")
    verdict = "PASS" if med <= TARGET_MS else "FAIL"
    print(f"  target median <= {TARGET_MS:.0f} ms: {verdict}")
    return 0 if med <= TARGET_MS and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
