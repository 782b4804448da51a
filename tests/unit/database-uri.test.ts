import { describe, expect, it } from 'vitest';
import { withDatabase } from '../../server/src/devservices/services.ts';

describe('withDatabase', () => {
  it.each([
    ['mongodb://127.0.0.1:27017', 'mongodb://127.0.0.1:27017/t1'],
    ['mongodb://127.0.0.1:27017/', 'mongodb://127.0.0.1:27017/t1'],
    ['mongodb://127.0.0.1:27017/other', 'mongodb://127.0.0.1:27017/t1'],
    ['mongodb://u:p%40ss@a:1,b:2,c:3/app?replicaSet=rs0&w=majority', 'mongodb://u:p%40ss@a:1,b:2,c:3/t1?replicaSet=rs0&w=majority'],
    ['mongodb+srv://cluster.example.net/?retryWrites=true', 'mongodb+srv://cluster.example.net/t1?retryWrites=true'],
  ])('puts the database into %s', (uri, expected) => {
    expect(withDatabase(uri, 't1')).toBe(expected);
  });

  it('refuses what is not a MongoDB URI', () => {
    expect(() => withDatabase('http://x', 't1')).toThrow(/not a MongoDB URI/);
  });
});
