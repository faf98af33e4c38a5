---- MODULE ConstraintInv ----
\* TLC checks the invariants of every state it generates that it has not seen, including
\* states outside the CONSTRAINT / ACTION_CONSTRAINT, which it does not keep
\* (tlc2.tool.ModelChecker: doNext, DoInitFunctor). x counts up; states 0..3 are kept.
\*  - ConstraintInv.cfg (CONSTRAINT x <= 3, INVARIANT x <= 4): ok, 4 distinct, 5 generated
\*    (Init 1 + one successor of each of 0..3; x = 4 is generated, checked, not kept), depth 4.
\*  - ConstraintInvBad.cfg (INVARIANT x <= 3): violated in x = 4, outside the constraint:
\*    5 generated, 4 distinct, trace 0, 1, 2, 3, 4.
\*  - ConstraintInvAction.cfg (ACTION_CONSTRAINT x' <= 3): the same, through the action constraint.
\*  - ConstraintInvInit.cfg (Init also allows 10, INVARIANT x <= 5): 10 is outside the
\*    constraint but checked: violated by the initial state, 2 generated, 1 distinct.
EXTENDS Naturals
CONSTANT Far
VARIABLE x
Init == x \in {0, Far}
Next == x' = x + 1
Bound == x <= 3
StepBound == x' <= 3
Weak == x <= 4
Small == x <= 3
Five == x <= 5
====
