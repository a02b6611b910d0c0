/** A worker entry that answers every job after 1.5 s (with an error), so a test can close a pool with a job in flight. */
export default async function slow(): Promise<never> {
  await new Promise((resolve) => setTimeout(resolve, 1500));
  throw new Error('slow-worker ran this job');
}
