/**
 * Occupancy of a grid of host resources over time (rows × columns, each cell
 * owned by one of a list of owners or free), sampled from a model's
 * allocator during a run: seed 000's harts × guest interrupt files. A
 * remedy row carries it beside its values (it is not part of the JSON
 * output); the web app draws it as a heat map.
 */

/** A moment worth marking on the grid (a refused entry: row = host CPU). */
export interface OccupancyMark {
  /** Virtual time (ns). */
  readonly time: number;
  readonly row: number;
  readonly label: string;
}

/** A sampled occupancy grid. */
export interface OccupancySeries {
  /** What the grid shows ("VS-files in use"). */
  readonly title: string;
  /** What a row is ("hart") and what a column is ("HGEI line"). */
  readonly rowLabel: string;
  readonly columnLabel: string;
  readonly rows: number;
  readonly columns: number;
  /** Number of the first column (1: HGEI lines start at 1). */
  readonly columnBase: number;
  /** Sample times in virtual ns, ascending. */
  readonly times: Float64Array;
  /**
   * Owner of each cell at each sample: `cells[(sample * rows + row) * columns + column]`
   * is an index into {@link owners}, or -1 when the cell is free.
   */
  readonly cells: Int16Array;
  /** Owner names ("vm3"), indexed by the cell values. */
  readonly owners: readonly string[];
  readonly marks: readonly OccupancyMark[];
}
