/**
 * The examples and the `npm start` main job, run as users run them: on the bundled sample data, without
 * a TTY, checking what they print and compute.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool } from '../src/index.js';
import { classifyWeather } from '../examples/classify-weather.js';
import { forecastTemperature } from '../examples/forecast-temperature.js';
import { runTsx } from './support/process.js';

afterAll(closeSharedPool);

describe('examples', () => {
  it('classify-weather trains on the .csv.bz2 with a falling loss', async () => {
    const lines: string[] = [];
    const losses = await classifyWeather('data/weather.csv.bz2', 5, (l) => lines.push(l));
    expect(lines[0]).toMatch(/2922 records; features precipitation, temp_max, temp_min, wind, location; 5 classes/);
    expect(losses).toHaveLength(5);
    expect(losses[4]).toBeLessThan(losses[0]);
    expect(lines.filter((l) => /^epoch \d+: loss/.test(l))).toHaveLength(5);
  });

  it('forecast-temperature trains on windows of the .csv.xz with a falling loss', async () => {
    const lines: string[] = [];
    const losses = await forecastTemperature('data/seattle-weather-hourly-normals.csv.xz', 4, (l) => lines.push(l));
    expect(lines[0]).toMatch(/8759 hourly records/);
    expect(losses).toHaveLength(4);
    expect(Math.min(...losses.slice(1))).toBeLessThan(losses[0]);
  });
});

describe('npm start', () => {
  it('runs the main job without a TTY, then reuses the indexes', async () => {
    const run = async (): Promise<string> => {
      const result = await runTsx(['examples/quickstart.ts'], { ...process.env, CI: 'true' });
      expect(result.code, result.stderr).toBe(0);
      // No progress bar without a terminal.
      expect(result.stderr).not.toMatch(/indexing .*\[#/);
      return result.stdout.toString();
    };
    const first = await run();
    expect(first).toMatch(/data\/weather\.csv\.bz2: 2922 records, index (built|loaded|rebuilt)/);
    expect(first).toMatch(/epoch 6\/6: loss \d\.\d+, accuracy 0\.\d+, \d+ records\/s/);
    expect(first).toMatch(/2010-07-04T09:00:00,1018\.2,16\.6,3\.3\n\s+2010-07-04T10:00:00/);
    expect(first).toMatch(/xs \[16, 24, 3\], ys \[16, 1\]/);
    expect(first).toMatch(/weather\.csv\.bz2\.sdx/);
    const second = await run();
    expect(second).toMatch(/data\/weather\.csv\.bz2: 2922 records, index loaded \(reused\)/);
    expect(second).toMatch(/seattle-weather-hourly-normals\.csv\.xz: 8759 records, index loaded \(reused\)/);
  });
});
