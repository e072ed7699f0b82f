// Resource names: datasets/{dataset}/runs/{anno_key}.

/** "datasets/{dataset}/runs/{annoKey}". */
export function runName(dataset: string, annoKey: string): string {
  return `datasets/${dataset}/runs/${annoKey}`;
}

/** "datasets/{dataset}", the parent of a dataset's runs. */
export function datasetName(dataset: string): string {
  return `datasets/${dataset}`;
}

/**
 * Splits "datasets/{dataset}/runs/{anno_key}" (or the shorthand "{dataset}/{anno_key}").
 * Throws a TypeError naming the input when it is neither.
 */
export function parseRunName(name: string): { dataset: string; annoKey: string } {
  const parts = name.split("/");
  if (parts.length === 4 && parts[0] === "datasets" && parts[2] === "runs" && parts[1] && parts[3]) {
    return { dataset: parts[1], annoKey: parts[3] };
  }
  if (parts.length === 2 && parts[0] && parts[1]) {
    return { dataset: parts[0], annoKey: parts[1] };
  }
  throw new TypeError(
    `run name '${name}' is not datasets/{dataset}/runs/{anno_key} or {dataset}/{anno_key}`,
  );
}
