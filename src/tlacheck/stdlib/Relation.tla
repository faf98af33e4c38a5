------------------------------ MODULE Relation -------------------------------
(* Relation for tlacheck's built-in checker: every operator calls its native
   implementation (tlacheck/builtin/community). Written for tlacheck; the operators, their
   arities and their meaning are those of the module in tlaplus/CommunityModules
   (TLCExt: tlaplus/tlaplus), whose definitions the test suite checks them against. *)
EXTENDS Naturals, FiniteSets

IsReflexive(R, S) == CM_Relation_IsReflexive(R, S)
IsReflexiveUnder(op(_,_), S) == CM_Relation_IsReflexiveUnder(op, S)
IsIrreflexive(R, S) == CM_Relation_IsIrreflexive(R, S)
IsIrreflexiveUnder(op(_,_), S) == CM_Relation_IsIrreflexiveUnder(op, S)
IsSymmetric(R, S) == CM_Relation_IsSymmetric(R, S)
IsSymmetricUnder(op(_,_), S) == CM_Relation_IsSymmetricUnder(op, S)
IsAntiSymmetric(R, S) == CM_Relation_IsAntiSymmetric(R, S)
IsAntiSymmetricUnder(op(_,_), S) == CM_Relation_IsAntiSymmetricUnder(op, S)
IsAsymmetric(R, S) == CM_Relation_IsAsymmetric(R, S)
IsAsymmetricUnder(op(_,_), S) == CM_Relation_IsAsymmetricUnder(op, S)
IsTransitive(R, S) == CM_Relation_IsTransitive(R, S)
IsTransitiveUnder(op(_,_), S) == CM_Relation_IsTransitiveUnder(op, S)
IsStrictlyPartiallyOrdered(R, S) == CM_Relation_IsStrictlyPartiallyOrdered(R, S)
IsStrictlyPartiallyOrderedUnder(op(_,_), S) == CM_Relation_IsStrictlyPartiallyOrderedUnder(op, S)
IsPartiallyOrdered(R, S) == CM_Relation_IsPartiallyOrdered(R, S)
IsPartiallyOrderedUnder(op(_,_), S) == CM_Relation_IsPartiallyOrderedUnder(op, S)
IsStrictlyTotallyOrdered(R, S) == CM_Relation_IsStrictlyTotallyOrdered(R, S)
IsStrictlyTotallyOrderedUnder(op(_,_), S) == CM_Relation_IsStrictlyTotallyOrderedUnder(op, S)
IsTotallyOrdered(R, S) == CM_Relation_IsTotallyOrdered(R, S)
IsTotallyOrderedUnder(op(_,_), S) == CM_Relation_IsTotallyOrderedUnder(op, S)
TransitiveClosure(R, S) == CM_Relation_TransitiveClosure(R, S)
ReflexiveTransitiveClosure(R, S) == CM_Relation_ReflexiveTransitiveClosure(R, S)
IsConnected(R, S) == CM_Relation_IsConnected(R, S)
==============================================================================
