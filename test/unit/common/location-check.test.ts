import { describe, expect, it } from 'vitest';
import { checkLocation, type GeoFact, type LocationFacts } from '../../../common/domain/location-check.js';

// The declared location against GeoIP and RTT (common/domain/location-check.ts).

const frankfurt = { lat: 50.11, lon: 8.68 };
const london = { lat: 51.51, lon: -0.13 };
const stAlbans: GeoFact = { address: '81.2.69.142', private: false, point: { lat: 51.75, lon: -0.33 }, country: 'GB', accuracyKm: 100, city: 'St Albans' };
const hesse: GeoFact = { address: '5.9.0.1', private: false, point: { lat: 51.3, lon: 9.49 }, country: 'DE', accuracyKm: 200 };
const loopback: GeoFact = { address: '127.0.0.1', private: true, point: null, country: null, accuracyKm: null };
const countryOf = (p: { lat: number; lon: number }) => (p.lon > 5 ? 'DE' : 'GB');
const facts = (connect: GeoFact | null, url: GeoFact[] = []): LocationFacts => ({ connect, url });

describe('location check', () => {
  it('confirms a claim GeoIP agrees with, within its tolerance and accuracy', () => {
    const c = checkLocation({ declared: frankfurt, facts: facts(hesse), rtt: [] }, countryOf);
    expect(c.status).toBe('passed');
    expect(c.effective).toEqual(frankfurt);
    expect(c.source).toBe('declared');
    expect(c.country).toBe('DE');
  });

  it('ignores a claim GeoIP contradicts and routes by the GeoIP position, saying why', () => {
    const c = checkLocation({ declared: frankfurt, facts: facts(stAlbans), rtt: [] }, countryOf);
    expect(c.status).toBe('failed');
    expect(c.effective).toEqual(stAlbans.point);
    expect(c.source).toBe('geoip');
    expect(c.country).toBe('GB');
    expect(c.reason).toMatch(/declared location ignored: GeoIP puts 81\.2\.69\.142 in GB, St Albans .* km from the claim/);
  });

  it('ignores a claim farther from the balancer than the measured RTT allows', () => {
    // 2.5 ms round trip: within 250 km of a London balancer; Frankfurt is ~640 km away.
    const c = checkLocation({ declared: frankfurt, facts: facts(loopback, [loopback]), rtt: [{ vantage: london, minRttMs: 2.5, samples: 5 }] }, countryOf);
    expect(c.status).toBe('failed');
    expect(c.lines.find((l) => l.check === 'rtt')?.detail).toMatch(/within 250 km .* the claim is 6\d\d km away/);
    // No GeoIP position on loopback: routed where the RTT proves it is, near the balancer.
    expect(c.effective).toEqual(london);
    expect(c.source).toBe('rtt');
  });

  it('accepts a claim the RTT allows', () => {
    const c = checkLocation({ declared: frankfurt, facts: facts(loopback, [loopback]), rtt: [{ vantage: london, minRttMs: 20, samples: 5 }] }, countryOf);
    expect(c.status).toBe('passed');
    expect(c.effective).toEqual(frankfurt);
  });

  it('prefers a GeoIP position the RTT allows, and never one the RTT rules out', () => {
    const sydney: GeoFact = { ...hesse, address: '1.2.3.4', point: { lat: -33.87, lon: 151.2 }, country: 'AU' };
    const c = checkLocation({ declared: frankfurt, facts: facts(sydney, [stAlbans]), rtt: [{ vantage: london, minRttMs: 2.5, samples: 3 }] }, countryOf);
    expect(c.status).toBe('failed');
    expect(c.effective).toEqual(stAlbans.point);
  });

  it('skips, and says so, on loopback and private addresses with near-zero RTT', () => {
    const c = checkLocation({ declared: frankfurt, facts: facts(loopback, [loopback]), rtt: [{ vantage: london, minRttMs: 0.2, samples: 9 }] }, countryOf);
    expect(c.status).toBe('skipped');
    expect(c.effective).toEqual(frankfurt);
    expect(c.reason).toMatch(/check skipped.*127\.0\.0\.1 is a loopback or private address.*near zero/);
    expect(c.country).toBe('DE');
  });

  it('fills the country from GeoIP when nothing is declared', () => {
    const c = checkLocation({ declared: null, facts: facts(stAlbans), rtt: [] }, countryOf);
    expect(c.status).toBe('undeclared');
    expect(c.effective).toEqual(stAlbans.point);
    expect(c.country).toBe('GB');
  });
});
