------------------------------ MODULE Functions ------------------------------
(* Functions for tlacheck's built-in checker: every operator calls its native
   implementation (tlacheck/builtin/community). Written for tlacheck; the operators, their
   arities and their meaning are those of the module in tlaplus/CommunityModules
   (TLCExt: tlaplus/tlaplus), whose definitions the test suite checks them against. *)
EXTENDS Integers, Folds

Restrict(f, S) == CM_Functions_Restrict(f, S)
RestrictDomain(f, Test(_)) == CM_Functions_RestrictDomain(f, Test)
RestrictValues(f, Test(_)) == CM_Functions_RestrictValues(f, Test)
IsRestriction(narrow, wide) == CM_Functions_IsRestriction(narrow, wide)
Range(f) == CM_Functions_Range(f)
Pointwise(f, g, T(_,_)) == CM_Functions_Pointwise(f, g, T)
Inverse(f, S, T) == CM_Functions_Inverse(f, S, T)
AntiFunction(f) == CM_Functions_AntiFunction(f)
IsInjective(f) == CM_Functions_IsInjective(f)
Injection(S, T) == CM_Functions_Injection(S, T)
Surjection(S, T) == CM_Functions_Surjection(S, T)
Bijection(S, T) == CM_Functions_Bijection(S, T)
ExistsInjection(S, T) == CM_Functions_ExistsInjection(S, T)
ExistsSurjection(S, T) == CM_Functions_ExistsSurjection(S, T)
ExistsBijection(S, T) == CM_Functions_ExistsBijection(S, T)
FoldFunctionOnSet(op(_,_), base, fun, indices) == CM_Functions_FoldFunctionOnSet(op, base, fun, indices)
FoldFunction(op(_,_), base, fun) == CM_Functions_FoldFunction(op, base, fun)
SumFunctionOnSet(fun, indices) == CM_Functions_SumFunctionOnSet(fun, indices)
SumFunction(fun) == CM_Functions_SumFunction(fun)
==============================================================================
