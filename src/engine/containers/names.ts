/**
 * Generated container names: "<adjective>_<surname>", as Docker users know them.
 * Our own lists: adjectives of temperament, surnames of scientists and engineers.
 */
const ADJECTIVES = [
  'agile', 'amazing', 'awesome', 'bold', 'brave', 'bright', 'busy', 'calm', 'careful', 'charming',
  'cheerful', 'clever', 'cool', 'curious', 'daring', 'eager', 'elated', 'epic', 'fervent', 'focused',
  'friendly', 'gallant', 'gentle', 'glad', 'happy', 'hardy', 'humble', 'jolly', 'keen', 'kind',
  'lively', 'loyal', 'lucid', 'merry', 'mighty', 'modest', 'nifty', 'noble', 'patient', 'peaceful',
  'plucky', 'proud', 'quick', 'quiet', 'radiant', 'serene', 'sharp', 'sleepy', 'smart', 'steady',
  'sunny', 'swift', 'tender', 'tidy', 'upbeat', 'vibrant', 'vivid', 'warm', 'wise', 'witty', 'zealous',
];

const SURNAMES = [
  'agnesi', 'archimedes', 'babbage', 'bardeen', 'bohr', 'boole', 'bose', 'brahmagupta', 'cannon',
  'carson', 'cerf', 'curie', 'darwin', 'dijkstra', 'einstein', 'euclid', 'euler', 'faraday', 'fermat',
  'fermi', 'feynman', 'franklin', 'galileo', 'gauss', 'goldberg', 'goodall', 'hamilton', 'hawking',
  'heisenberg', 'hopper', 'hypatia', 'johnson', 'kepler', 'knuth', 'lamarr', 'lamport', 'leakey',
  'liskov', 'lovelace', 'maxwell', 'meitner', 'mendel', 'mirzakhani', 'morse', 'newton', 'noether',
  'pascal', 'pasteur', 'planck', 'ramanujan', 'ritchie', 'rosalind', 'sagan', 'shannon', 'tesla',
  'thompson', 'torvalds', 'turing', 'volta', 'wozniak', 'wright', 'yalow',
];

export function generateName(taken: (name: string) => boolean): string {
  for (let attempt = 0; ; attempt++) {
    const a = ADJECTIVES[Math.floor(Math.random() * ADJECTIVES.length)];
    const s = SURNAMES[Math.floor(Math.random() * SURNAMES.length)];
    // After collisions, add a digit, as Docker does.
    const name = attempt < 10 ? `${a}_${s}` : `${a}_${s}${Math.floor(Math.random() * 10)}`;
    if (!taken(name)) return name;
  }
}

/** Docker's rule for user-given names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
