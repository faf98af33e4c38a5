---------------------------- MODULE FiniteSetsExt ----------------------------
(* FiniteSetsExt for tlacheck's built-in checker: every operator calls its native
   implementation (tlacheck/builtin/community). Written for tlacheck; the operators, their
   arities and their meaning are those of the module in tlaplus/CommunityModules
   (TLCExt: tlaplus/tlaplus), whose definitions the test suite checks them against. *)
EXTENDS Integers, FiniteSets, Folds, Functions

FoldSet(op(_,_), base, set) == CM_FiniteSetsExt_FoldSet(op, base, set)
SumSet(set) == CM_FiniteSetsExt_SumSet(set)
ProductSet(set) == CM_FiniteSetsExt_ProductSet(set)
ReduceSet(op(_,_), set, acc) == CM_FiniteSetsExt_ReduceSet(op, set, acc)
MapThenSumSet(op(_), set) == CM_FiniteSetsExt_MapThenSumSet(op, set)
FlattenSet(S) == CM_FiniteSetsExt_FlattenSet(S)
SymDiff(A, B) == CM_FiniteSetsExt_SymDiff(A, B)
Quantify(S, P(_)) == CM_FiniteSetsExt_Quantify(S, P)
kSubset(k, S) == CM_FiniteSetsExt_kSubset(k, S)
Max(S) == CM_FiniteSetsExt_Max(S)
Min(S) == CM_FiniteSetsExt_Min(S)
Choices(Sets) == CM_FiniteSetsExt_Choices(Sets)
ChooseUnique(S, P(_)) == CM_FiniteSetsExt_ChooseUnique(S, P)
==============================================================================
