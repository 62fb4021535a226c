export { seededRandom } from '../../../common/domain/seeded-random.js';
