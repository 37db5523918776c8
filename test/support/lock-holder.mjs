// Holds a database lock from another process, as a sqlite3 shell in a transaction would:
// opens the file, runs BEGIN EXCLUSIVE, prints "locked", and commits when stdin says
// "release" (or closes), then prints "released" and exits.
import sqlite3 from 'sqlite3';

const db = new sqlite3.Database(process.argv[2]);
db.configure('busyTimeout', 10_000);
db.exec('BEGIN EXCLUSIVE', (err) => {
  if (err) {
    process.stderr.write(`cannot lock: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write('locked\n');
});
let released = false;
const release = () => {
  if (released) return;
  released = true;
  db.exec('COMMIT', () => db.close(() => {
    process.stdout.write('released\n');
    process.exit(0);
  }));
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  if (d.includes('release')) release();
});
process.stdin.on('end', release);
