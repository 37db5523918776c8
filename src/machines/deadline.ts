// What a deadline timer actor is given: machines keep deadlines as timestamps in context and
// invoke a timer with this input (xstate does not persist `after` delays; invoked actors are
// restarted on restore with their input).
export interface DeadlineInput {
  /** Epoch milliseconds at which the timer sends its event. */
  deadline: number;
}
