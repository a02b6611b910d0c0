// A seekdata `map` module (README, "Transforms in the worker pool"): derived features computed in the worker
// pool from each parsed row. It runs with the rights of the process that names it.

/** One row: the mean of the day's temperatures, a crude wind chill, rain or not; other columns (time features) pass through. */
export default function feelsLike({ xs, ys }) {
  const { temp_max, temp_min, wind, precipitation, ...rest } = xs;
  const mean = (temp_max + temp_min) / 2;
  return { xs: { mean, chill: mean - 0.7 * wind, wet: precipitation > 0 ? 1 : 0, ...rest }, ys };
}
