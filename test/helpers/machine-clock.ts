/**
 * The one clock that test processes compare across process boundaries: CLOCK_MONOTONIC in ms
 * (`process.hrtime`), which Linux keeps for the whole machine, so every process on it reads the
 * same clock. `performance.timeOrigin + performance.now()` is not that: each process fixes its
 * origin from the wall clock when it starts and then counts monotonically, so two processes
 * started at different moments disagree by whatever the wall clock was slewed in between — a
 * clean-clone run saw sub-millisecond false overlaps that way.
 */
export const machineNow = (): number => Number(process.hrtime.bigint()) / 1e6;
