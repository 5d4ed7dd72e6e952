/**
 * The estate of one environment, composed like the architecture diagram:
 * settings -> Azure foundation -> cluster platform -> workloads -> alerting -> edge.
 * No resource is declared here; each layer is a component under components/.
 */
import { ResourceGroups } from "./components/resourceGroups";
import { stackPrefix, standardTags } from "./lib/names";
import { loadStackSettings } from "./settings";

export = async () => {
  const { settings } = loadStackSettings();
  const prefix = stackPrefix(settings);
  const tags = standardTags(settings);

  // Azure foundation
  const groups = new ResourceGroups(prefix, { prefix, location: settings.location, tags });

  return {
    resourceGroup: groups.platformName,
    dataResourceGroup: groups.dataName,
  };
};
