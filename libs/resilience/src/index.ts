export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitSnapshot,
  type CircuitState,
  type CircuitStateListener,
} from './circuit-breaker';
export { TokenBucketRateLimiter, type TokenBucketRateLimiterOptions } from './token-bucket-rate-limiter';
export {
  createRestartPolicy,
  backoffDelay,
  type RestartPolicy,
  type RestartPolicyOptions,
  type RestartPolicyKind,
  type RestartDecision,
  type RestartRefusal,
  type StopReason,
  type BackoffOptions,
} from './restart-policy';
export {
  ResilienceError,
  isResilienceError,
  type ResilienceErrorCode,
  type ResilienceErrorKind,
  type ResilienceErrorJSON,
} from './errors';
