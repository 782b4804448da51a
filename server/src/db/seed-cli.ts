import { loadConfig } from '../config/env.ts';
import { connectDatabase } from './connect.ts';
import { seedDemoData } from './seed.ts';

const config = loadConfig();
if (!config.MONGODB_URI) {
  console.error('MONGODB_URI is not set: `npm start` seeds its embedded database by itself; set MONGODB_URI to seed another one.');
  process.exit(1);
}
const database = await connectDatabase(config.MONGODB_URI);
try {
  const result = await seedDemoData(database.models, { timeZone: config.TIMEZONE });
  console.log(`seeded ${result.sessions} sessions, ${result.overrides} overrides, ${result.bookings} bookings`);
} finally {
  await database.close();
}
