/**
 * Reports on images: `history` (entries, layer sizes, cache hits of the last build), and the
 * `explain` analysis (per-layer changes, wasted space measured without dive's over-count, the
 * last build's cache misses with reasons, the stage graph) as data, text and a self-contained
 * HTML page.
 */
export * from './types.js';
export { analyzeImage, analyzeLayers, type AnalyzeImageOptions, type AnalyzeLayersOptions } from './analyze.js';
export { analyzeWaste, type AnalyzeWasteOptions } from './waste.js';
export {
  analyzeLayerChanges,
  type AnalyzeLayerChangesOptions,
  type LayerChangeSet,
  type LayerChangesResult,
  type CopyRemoval,
} from './layer-changes.js';
export {
  readImageHistory,
  historyRows,
  type ReadImageHistoryOptions,
  type ImageHistory,
  type HistoryRowsOptions,
  type ReportImage,
} from './history.js';
export {
  alignHistory,
  matchHistoryToBuild,
  type AlignedEntry,
  type HistoryMatch,
  type MatchHistoryOptions,
} from './match-history.js';
export {
  readDockerfileStages,
  stagesOfBuild,
  buildStageGraph,
  type DockerfileStages,
  type BuildStageGraphOptions,
} from './stage-graph.js';
export { formatHistoryTable, formatHistoryJson, type FormatHistoryTableOptions } from './history-table.js';
export { renderExplainText, type RenderExplainTextOptions } from './render-text.js';
export { renderExplainHtml, type RenderExplainHtmlOptions } from './render-html.js';
export { formatSize, formatPercent, formatAgo, humanDuration } from './format.js';
export {
  diskUsage,
  type DiskUsage,
  type DiskUsageOptions,
  type DiskUsageSummary,
  type DiskUsageImage,
  type DiskUsageContainer,
  type DiskUsageCacheEntry,
} from './disk-usage.js';
