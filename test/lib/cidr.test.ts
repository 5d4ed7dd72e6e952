import * as assert from "node:assert/strict";
import { cidrContains, cidrsOverlap, ipInCidr, parseCidr } from "../../lib/cidr";
import { durationSeconds, formatDuration } from "../../lib/duration";
import { cronIntervalMinutes } from "../../settings/rules";

describe("lib/cidr", () => {
  it("parses a block into its first and last address", () => {
    const block = parseCidr("10.0.16.0/24");
    assert.equal(block.end - block.start, 255);
    assert.equal(block.prefix, 24);
  });
  it("rejects host bits, long prefixes and non-addresses", () => {
    assert.throws(() => parseCidr("10.0.0.1/16"), /host bits set; the network address is 10\.0\.0\.0\/16/);
    assert.throws(() => parseCidr("10.0.0.0/33"), /longer than 32/);
    assert.throws(() => parseCidr("10.0.0.256/32"), /not an IPv4 address/);
    assert.throws(() => parseCidr("10.0.0.0"), /not a CIDR block/);
  });
  it("tells containment and overlap apart", () => {
    const vnet = parseCidr("10.0.0.0/16");
    assert.ok(cidrContains(vnet, parseCidr("10.0.255.0/24")));
    assert.ok(!cidrContains(vnet, parseCidr("10.1.0.0/24")));
    assert.ok(cidrsOverlap(parseCidr("10.0.0.0/20"), parseCidr("10.0.15.0/24")));
    assert.ok(!cidrsOverlap(parseCidr("10.0.0.0/20"), parseCidr("10.0.16.0/24")));
    assert.ok(ipInCidr("172.16.0.10", parseCidr("172.16.0.0/16")));
  });
});

describe("lib/duration", () => {
  it("reads Go-style single-unit durations", () => {
    assert.equal(durationSeconds("30s"), 30);
    assert.equal(durationSeconds("2m"), 120);
    assert.equal(durationSeconds("720h"), 30 * 86400);
    assert.throws(() => durationSeconds("1m30s"), /not a duration/);
  });
  it("formats seconds in the largest exact unit", () => {
    assert.equal(formatDuration(120), "2m");
    assert.equal(formatDuration(90), "90s");
    assert.equal(formatDuration(7200), "2h");
  });
});

describe("cron interval", () => {
  it("reads how often an hourly-or-faster schedule runs", () => {
    assert.equal(cronIntervalMinutes("0 * * * *"), 60);
    assert.equal(cronIntervalMinutes("*/15 * * * *"), 15);
    assert.equal(cronIntervalMinutes("5 */2 * * *"), 120);
    assert.equal(cronIntervalMinutes("0 2 * * *"), undefined);
  });
});
