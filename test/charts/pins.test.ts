import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CHARTS, IMAGES } from "../../components/charts";
import { pinLines } from "../../tools/pins";

/** Rows of the README's "Chart versions" table: chart (or charts) -> version cell and repository. */
function readmeChartRows(): { charts: string[]; version: string; repo: string }[] {
  const text = fs.readFileSync(path.resolve(__dirname, "..", "..", "README.md"), "utf8");
  const section = text.slice(text.indexOf("### Chart versions"), text.indexOf("### Upgrading a chart"));
  return section
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| chart ") && !l.startsWith("|---"))
    .map((l) => l.split("|").map((c) => c.trim()))
    .map(([, chart, version, repo]) => ({
      charts: chart.replace(/^istio /, "").split(" / "),
      version,
      repo,
    }));
}

describe("chart pins", () => {
  it("the README's chart table names every pin of components/charts.ts at its version and repository", () => {
    const rows = readmeChartRows();
    for (const [key, pin] of Object.entries(CHARTS)) {
      const row = rows.find((r) => r.charts.includes(pin.chart));
      assert.ok(row, `README lists CHARTS.${key} (${pin.chart})`);
      assert.equal(row.version.split(" ")[0], pin.version, `README version of ${pin.chart}`);
      assert.equal(row.repo, pin.repo, `README repository of ${pin.chart}`);
    }
    const images = rows.map((r) => r.version).join(" ");
    for (const image of [
      IMAGES.rabbitmqClusterOperator,
      IMAGES.rabbitmqTopologyOperator,
      IMAGES.rabbitmqCredentialUpdater,
    ])
      assert.ok(
        images.includes(`${image.repository.split("/")[1]}:${image.tag}`),
        `README names ${image.repository}:${image.tag}`,
      );
    assert.ok(images.includes(IMAGES.velero), `README names ${IMAGES.velero}`);
  });

  it("tools/pins.ts --list prints one line per pin, tab-separated, with the package file helm pull writes", () => {
    const charts = pinLines()
      .filter((l) => l.startsWith("chart\t"))
      .map((l) => l.split("\t"));
    assert.deepEqual(
      charts.map(([, key, chart, version, repo, file]) => ({ key, chart, version, repo, file })),
      Object.entries(CHARTS).map(([key, pin]) => ({
        key,
        chart: pin.chart,
        version: pin.version,
        repo: pin.repo,
        file: `${pin.chart}-${pin.version}.tgz`,
      })),
    );
  });
});
