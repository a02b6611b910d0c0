/** A worker entry that refuses every job, so a test can tell that a pool runs it instead of seekdata's own. */
export default function refusing(): never {
  throw new Error('refusing-worker ran this job');
}
