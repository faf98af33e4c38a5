---- MODULE Scopes ----
(* Every kind of binder, LOCAL definitions, an inner module and a named instance: all fine. *)
EXTENDS Naturals, Sequences
CONSTANT N
VARIABLE x
LOCAL Helper(a) == a + 1
---- MODULE Inner ----
VARIABLE y
Double(v) == 2 * v + N
====
I == INSTANCE Inner WITH y <- x
Op(a, F(_)) == LET g[k \in 1..2] == k
                   h(z) == z + g[1]
               IN \A p \in 1..2, <<q, r>> \in {<<1, 2>>} : \E t \in 1..a : F(p) + q + r + t + h(a) > 0
Sets == {v \in 1..3 : v > 1} \cup {w + 1 : w \in 1..2} \cup {CHOOSE c \in 1..3 : c > 1}
Fn == [s \in 1..2 |-> s] = [f \in 1..2, e \in 1..3 |-> f]
Use == Op(1, LAMBDA m : m) /\ I!Double(1) = 2 + N /\ Helper(1) = 2 /\ [x EXCEPT ![1] = @ + 1] = x
Rec == [fld |-> 1].fld = 1
Init == x = <<0>>
Next == x' = x
====
