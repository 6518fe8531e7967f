import { releaseSequence, releaseTable } from './releases';
(async () => {
  const steps = await releaseSequence('memory', { users: 12, rounds: 6 }, ['a', 'b', 'e', 'f', 'g']);
  console.log(releaseTable(steps));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
