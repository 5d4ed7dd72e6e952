import * as assert from "node:assert/strict";
import { SettingsError, type Settings } from "../../settings";
import { analysisIssues } from "../../settings/rules";
import { parseStack } from "../support/settings";

/** Parses a stack's config (prod by default) after `edit`; returns the settings or the SettingsError. */
const parseEdited = (edit: (c: Record<string, any>) => void, stack = "prod"): Settings | SettingsError =>
  parseStack(stack, edit);

/** Asserts that the edit is rejected with an issue on `key` whose message matches `rule`. */
function assertRejected(
  edit: (c: Record<string, any>) => void,
  key: string,
  rule: RegExp,
  stack = "prod",
): void {
  const result = parseEdited(edit, stack);
  assert.ok(result instanceof SettingsError, `expected ${key} to be rejected`);
  const issue = result.issues.find((i) => i.path === key);
  assert.ok(issue, `expected an issue on ${key}, got: ${result.message}`);
  assert.match(issue.message, rule);
  assert.ok(result.message.includes(`Pulumi.${stack}.yaml`), "the message names the file");
}

function assertAccepted(edit: (c: Record<string, any>) => void, stack = "prod"): Settings {
  const result = parseEdited(edit, stack);
  if (result instanceof SettingsError) assert.fail(result.message);
  return result;
}

describe("settings", () => {
  it("accepts every stack file as committed", () => {
    for (const stack of ["dev", "staging", "prod", "dr"]) {
      const s = assertAccepted(() => undefined, stack);
      assert.equal(s.environment, stack);
    }
  });

  it("fills per-environment defaults: dev has no zones and a Free tier, prod three zones and Standard", () => {
    const dev = assertAccepted(() => undefined, "dev");
    const prod = assertAccepted(() => undefined);
    assert.deepEqual(dev.cluster.zones, []);
    assert.equal(dev.cluster.tier, "Free");
    assert.deepEqual(prod.cluster.zones, ["1", "2", "3"]);
    assert.equal(prod.cluster.tier, "Standard");
    assert.equal(Object.keys(prod.services).length, 8);
  });

  it("derives canary metric thresholds from the alert thresholds unless set", () => {
    const s = assertAccepted((c) => {
      c.observability.alerts.errorRatePercent = 3;
      c.observability.alerts.latencyP95Ms = 400;
    });
    assert.equal(s.delivery.canary.successRatePercent, 97);
    assert.equal(s.delivery.canary.latencyP95Ms, 400);
    const explicit = assertAccepted((c) => (c.delivery.canary.successRatePercent = 99));
    assert.equal(explicit.delivery.canary.successRatePercent, 99);
  });

  describe("types and keys", () => {
    it("requires a known environment", () => {
      assertRejected((c) => (c.environment = "qa"), "environment", /one of dev, staging, prod, dr/);
    });
    it("rejects a wrong type with the key path", () => {
      assertRejected(
        (c) => (c.delivery.canary.threshold = "two"),
        "delivery.canary.threshold",
        /expected number/,
      );
    });
    it("rejects an out-of-range value", () => {
      assertRejected(
        (c) => (c.observability.alerts.errorRatePercent = 150),
        "observability.alerts.errorRatePercent",
        /at most 100/,
      );
    });
    it("rejects an unknown key: typos never pass silently", () => {
      assertRejected(
        (c) => (c.delivery.canary.stepWieghts = [5, 50]),
        "delivery.canary.stepWieghts",
        /unknown key/,
      );
      assertRejected((c) => (c.netwrok = {}), "netwrok", /unknown key/);
    });
    it("rejects a malformed duration", () => {
      assertRejected(
        (c) => (c.delivery.canary.interval = "1 minute"),
        "delivery.canary.interval",
        /duration/,
      );
    });
    it("rejects an image tag of latest", () => {
      assertRejected((c) => (c.services["api-gateway"].tag = "latest"), "services.api-gateway.tag", /latest/);
    });
  });

  describe("network", () => {
    it("rejects a subnet outside the address space", () => {
      assertRejected(
        (c) => (c.network.subnets.ingress = "10.9.0.0/24"),
        "network.subnets.ingress",
        /inside network.addressSpace/,
      );
    });
    it("rejects overlapping subnets", () => {
      assertRejected(
        (c) => (c.network.subnets.ingress = "10.0.1.0/24"),
        "network.subnets.ingress",
        /overlaps network.subnets.aksNodes/,
      );
    });
    it("rejects a pod CIDR overlapping the VNet", () => {
      assertRejected(
        (c) => (c.network.podCidr = "10.0.128.0/17"),
        "network.podCidr",
        /overlap network.addressSpace/,
      );
    });
    it("rejects a service CIDR overlapping the pod CIDR", () => {
      assertRejected(
        (c) => {
          c.network.serviceCidr = "192.168.0.0/20";
          c.network.dnsServiceIp = "192.168.0.10";
        },
        "network.serviceCidr",
        /overlaps network.podCidr/,
      );
    });
    it("rejects a CIDR with host bits set", () => {
      assertRejected(
        (c) => (c.network.subnets.postgres = "10.0.18.5/24"),
        "network.subnets.postgres",
        /host bits/,
      );
    });
    it("rejects a DNS service IP outside the service CIDR", () => {
      assertRejected(
        (c) => (c.network.dnsServiceIp = "10.0.0.10"),
        "network.dnsServiceIp",
        /inside network.serviceCidr/,
      );
    });
  });

  describe("cluster", () => {
    it("rejects a pool whose min exceeds its max", () => {
      assertRejected(
        (c) => (c.cluster.pools.application.min = 30),
        "cluster.pools.application.min",
        /must not exceed/,
      );
    });
    it("rejects prod without zones", () => {
      assertRejected((c) => (c.cluster.zones = []), "cluster.zones", /zones 1, 2 and 3 in prod/);
    });
    it("rejects the Free tier outside dev", () => {
      assertRejected((c) => (c.cluster.tier = "Free"), "cluster.tier", /Standard or Premium/);
    });
    it("rejects a public API server without authorized ranges outside dev", () => {
      assertRejected(
        (c) => (c.cluster.apiServer.authorizedIpRanges = []),
        "cluster.apiServer.authorizedIpRanges",
        /at least one range/,
      );
      assertAccepted((c) => (c.cluster.apiServer = { privateCluster: true, authorizedIpRanges: [] }));
    });
  });

  describe("production invariants", () => {
    it("rejects WAF Detection in prod and accepts it in dev", () => {
      assertRejected((c) => (c.edge.wafMode = "Detection"), "edge.wafMode", /Prevention in prod/);
      assertAccepted((c) => (c.edge.wafMode = "Detection"), "dev");
    });
    it("rejects a PostgreSQL without zone-redundant HA in prod", () => {
      assertRejected(
        (c) => (c.data.postgres.highAvailability = "SameZone"),
        "data.postgres.highAvailability",
        /ZoneRedundant in prod/,
      );
    });
    it("rejects a prod service with fewer than two replicas", () => {
      assertRejected(
        (c) => (c.services["persona-service"] = { replicas: { min: 1, max: 4 } }),
        "services.persona-service.replicas.min",
        /at least 2 in prod/,
      );
    });
    it("requires the dr origin in prod", () => {
      assertRejected((c) => delete c.edge.drOrigin, "edge.drOrigin", /priority-2 origin/);
    });
  });

  describe("Flagger analysis", () => {
    it("requires exactly one of stepWeights, stepWeight or iterations", () => {
      assertRejected((c) => (c.delivery.canary.stepWeight = 10), "delivery.canary", /exactly one of/);
      assert.match(
        analysisIssues("delivery.canary", { interval: "1m", threshold: 2 }, 120)[0].message,
        /exactly one of .* \(found none\)/,
      );
      assertAccepted((c) => {
        delete c.delivery.canary.stepWeights;
        c.delivery.canary.stepWeight = 25;
        c.delivery.canary.maxWeight = 50;
        // Holds keep weights of the canary's steps; prod's hold 5%, which steps of 25 never reach.
        c.delivery.canary.holds = { "25": "6h", "50": "6h" };
      });
    });
    it("requires stepWeights strictly ascending and unique", () => {
      assertRejected(
        (c) => (c.delivery.canary.stepWeights = [5, 50, 25]),
        "delivery.canary.stepWeights[2]",
        /strictly ascending/,
      );
      assertRejected(
        (c) => (c.delivery.canary.stepWeights = [5, 5, 50]),
        "delivery.canary.stepWeights[1]",
        /strictly ascending and unique/,
      );
    });
    it("requires stepWeights within (0, 100]", () => {
      assertRejected(
        (c) => (c.delivery.canary.stepWeights = [0, 50]),
        "delivery.canary.stepWeights[0]",
        /within \(0, 100\]/,
      );
      assertRejected(
        (c) => (c.delivery.canary.stepWeights = [50, 110]),
        "delivery.canary.stepWeights[1]",
        /within \(0, 100\]/,
      );
      assertAccepted((c) => {
        c.delivery.canary.stepWeights = [50, 100];
        c.delivery.canary.holds = { "50": "6h" };
      });
    });
    it("requires an interval of at least 10s", () => {
      assertRejected((c) => (c.delivery.canary.interval = "5s"), "delivery.canary.interval", /at least 10s/);
      assertAccepted((c) => (c.delivery.canary.interval = "10s"));
    });
    it("requires a threshold of at least 1", () => {
      assertRejected((c) => (c.delivery.canary.threshold = 0), "delivery.canary.threshold", /at least 1/);
    });
    it("rejects an analysis whose worst-case rollback exceeds the budget (prod: 2 minutes)", () => {
      assertRejected(
        (c) => (c.delivery.canary.threshold = 5),
        "services.api-gateway.canary",
        /worst case from fault onset .* exceeds delivery\.canary\.maxRollbackSeconds \(120s\)/,
      );
    });
    it("checks each service's analysis after its overrides", () => {
      assertRejected(
        (c) => (c.services["api-gateway"].canary = { interval: "2m" }),
        "services.api-gateway.canary",
        /exceeds delivery.canary.maxRollbackSeconds/,
      );
      assertRejected(
        (c) => (c.services["auth-service"] = { canary: { stepWeights: [10, 20] } }),
        "services.auth-service.canary.stepWeights",
        /not allowed with strategy blueGreen .*set iterations instead/,
      );
    });
  });

  describe("services, data, alerts and backup", () => {
    it("requires a queue for a KEDA-scaled service", () => {
      assertRejected(
        (c) => (c.services["api-gateway"].autoscaler = "keda"),
        "services.api-gateway.queue",
        /required when autoscaler is keda/,
      );
    });
    it("rejects two exposed services on one route", () => {
      assertRejected(
        (c) => (c.services["persona-service"] = { route: "/api/agents" }),
        "services.persona-service.route",
        /already the route/,
      );
    });
    it("rejects a caller that is not a service of the stack", () => {
      assertRejected(
        (c) => (c.services["persona-service"] = { callers: ["nobody"] }),
        "services.persona-service.callers",
        /not a service/,
      );
    });
    it("rejects archiving before cooling", () => {
      assertRejected(
        (c) => (c.data = { storage: { archiveAfterDays: 60 } }),
        "data.storage.archiveAfterDays",
        /later than/,
      );
    });
    it("rejects a P99 latency threshold below P95", () => {
      assertRejected(
        (c) => (c.observability.alerts.latencyP99Ms = 400),
        "observability.alerts.latencyP99Ms",
        /at least .*latencyP95Ms/,
      );
    });
    it("rejects a backup schedule less frequent than the RPO", () => {
      assertRejected(
        (c) => (c.backup.hourlySchedule = "0 */2 * * *"),
        "backup.hourlySchedule",
        /every 120 min, beyond the RPO of 60 min/,
      );
      assertAccepted((c) => (c.backup.hourlySchedule = "*/30 * * * *"));
    });
    it("rejects daily backups kept less than 30 days", () => {
      assertRejected((c) => (c.backup.dailyTtl = "168h"), "backup.dailyTtl", /at least 30 days/);
    });
    it("requires the secrets the stack's receivers use", () => {
      assertRejected(
        (c) => delete c.pagerdutyRoutingKey,
        "pagerdutyRoutingKey",
        /required because observability\.receivers\.pagerduty\.enabled is true.*pulumi config set --secret --stack <stack> pagerdutyRoutingKey/,
      );
      assertRejected((c) => delete c.grafanaAdminPassword, "grafanaAdminPassword", /every stack needs it/);
    });
    it("requires the load tester's client while a smoke path needs a bearer token", () => {
      assertRejected(
        (c) => delete c.delivery.loadTest.tokenClientId,
        "delivery.loadTest.tokenClientId",
        /services\.[a-z-]+\.smokePaths\[\d+\]\.auth is true/,
      );
      assertRejected(
        (c) => delete c.loadTestClientSecret,
        "loadTestClientSecret",
        /required because services\.[a-z-]+\.smokePaths\[\d+\]\.auth is true/,
      );
      // Neither is needed when no webhook calls the smoke paths.
      assertAccepted((c) => {
        delete c.delivery.loadTest.tokenClientId;
        delete c.loadTestClientSecret;
        c.delivery.loadTest.enabled = false;
        c.delivery.acceptanceTest = { enabled: false };
      });
    });
    it("a replica of another region's server must name that region's PostgreSQL subnet", () => {
      assertRejected(
        (c) => delete c.network.peerPostgresSubnets,
        "network.peerPostgresSubnets",
        /replicates over 5432 through the peering/,
        "dr",
      );
      assertRejected(
        (c) => (c.network.peerPostgresSubnets = ["10.1.18.0/24"]),
        "network.peerPostgresSubnets[0]",
        /must not overlap network\.addressSpace 10\.1\.0\.0\/16/,
        "dr",
      );
    });
  });
});
