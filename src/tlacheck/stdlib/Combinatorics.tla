---------------------------- MODULE Combinatorics ----------------------------
(* Combinatorics for tlacheck's built-in checker: every operator calls its native
   implementation (tlacheck/builtin/community). Written for tlacheck; the operators, their
   arities and their meaning are those of the module in tlaplus/CommunityModules
   (TLCExt: tlaplus/tlaplus), whose definitions the test suite checks them against. *)
EXTENDS Naturals

factorial[n \in Nat] == IF n = 0 THEN 1 ELSE n * factorial[n - 1]
choose(n, k) == CM_Combinatorics_choose(n, k)
==============================================================================
