package io.miniloadbalancer.consul;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

class UpdateGuardTest {

  private static final long SECOND = 1_000_000_000L;
  private final UpdateGuard guard = new UpdateGuard(50, 30 * SECOND);

  @Test
  void firstAnswerGrowthAndSmallShrinksAreBelievedAtOnce() {
    assertThat(guard.offer(Set.of("a", "b", "c", "d"), 0).accept()).isTrue();
    assertThat(guard.offer(Set.of("a", "b", "c", "d", "e"), 1).accept()).isTrue();
    // 2 of 5 gone (40%): a rolling deploy.
    assertThat(guard.offer(Set.of("a", "b", "c"), 2).accept()).isTrue();
  }

  @Test
  void emptyingIsHeldUntilConfirmed() {
    guard.offer(Set.of("a", "b"), 0);
    UpdateGuard.Verdict held = guard.offer(Set.of(), SECOND);
    assertThat(held.accept()).isFalse();
    assertThat(held.holdReason()).contains("no instances").contains("had 2");
    assertThat(held.remainingNanos()).isEqualTo(30 * SECOND);
    assertThat(guard.offer(Set.of(), 30 * SECOND).accept()).isFalse();
    assertThat(guard.offer(Set.of(), 31 * SECOND).accept()).isTrue();
    // Once believed, the empty set is the new baseline: anything is believed from it.
    assertThat(guard.offer(Set.of("a"), 32 * SECOND).accept()).isTrue();
  }

  @Test
  void aLargeShrinkIsHeldAndAReturnToNormalClearsTheClock() {
    guard.offer(Set.of("a", "b", "c", "d"), 0);
    UpdateGuard.Verdict held = guard.offer(Set.of("a"), SECOND);
    assertThat(held.accept()).isFalse();
    assertThat(held.holdReason()).contains("drops 3 of 4");
    assertThat(guard.offer(Set.of("a", "b", "c", "d"), 2 * SECOND).accept()).isTrue();
    // A new shrink starts a new confirmation period.
    assertThat(guard.offer(Set.of("a"), 40 * SECOND).accept()).isFalse();
    assertThat(guard.offer(Set.of("a"), 69 * SECOND).accept()).isFalse();
    assertThat(guard.offer(Set.of("a"), 70 * SECOND).accept()).isTrue();
  }

  @Test
  void exactlyTheLimitIsBelieved() {
    guard.offer(Set.of("a", "b", "c", "d"), 0);
    assertThat(guard.offer(Set.of("a", "b"), 1).accept()).as("50% is not more than 50%").isTrue();
  }
}
