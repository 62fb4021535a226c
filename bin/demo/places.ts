// Where the demo's volunteer nodes say they are, and where its simulated visitors come from.
// Visitor addresses are public addresses geoip-lite places in each country; they are only
// written into X-Forwarded-For (the demo trusts its own loopback simulator) and never contacted.

export interface Place {
  city: string;
  lat: number;
  lon: number;
}

export const nodePlaces: Place[] = [
  { city: 'frankfurt', lat: 50.11, lon: 8.68 },
  { city: 'virginia', lat: 38.95, lon: -77.45 },
  { city: 'sao-paulo', lat: -23.55, lon: -46.63 },
  { city: 'singapore', lat: 1.35, lon: 103.82 },
  { city: 'sydney', lat: -33.87, lon: 151.21 },
  { city: 'tokyo', lat: 35.68, lon: 139.69 },
  { city: 'london', lat: 51.51, lon: -0.13 },
  { city: 'mumbai', lat: 19.08, lon: 72.88 },
  { city: 'johannesburg', lat: -26.2, lon: 28.05 },
  { city: 'oregon', lat: 45.52, lon: -122.68 },
];

export const visitorAddresses: { country: string; ip: string }[] = [
  { country: 'DE', ip: '80.64.0.1' },
  { country: 'US', ip: '8.8.8.8' },
  { country: 'BR', ip: '200.147.67.142' },
  { country: 'SG', ip: '165.21.83.88' },
  { country: 'AU', ip: '1.128.0.1' },
  { country: 'JP', ip: '133.242.0.1' },
  { country: 'GB', ip: '81.2.69.160' },
  { country: 'IN', ip: '14.139.0.1' },
  { country: 'ZA', ip: '196.25.1.1' },
  { country: 'FR', ip: '90.0.0.1' },
  { country: 'CA', ip: '24.48.0.1' },
  { country: 'MX', ip: '187.188.0.1' },
];

export function nodeName(index: number, rogue: boolean): string {
  const place = nodePlaces[index % nodePlaces.length] ?? { city: 'node' };
  const suffix = index >= nodePlaces.length ? `-${Math.floor(index / nodePlaces.length) + 1}` : '';
  return rogue ? `rogue-${place.city}${suffix}` : `${place.city}${suffix}`;
}
