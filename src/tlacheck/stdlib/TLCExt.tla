------------------------------- MODULE TLCExt --------------------------------
(* TLCExt for tlacheck's built-in checker: every operator calls its native
   implementation (tlacheck/builtin/community). Written for tlacheck; the operators, their
   arities and their meaning are those of the module in tlaplus/CommunityModules
   (TLCExt: tlaplus/tlaplus), whose definitions the test suite checks them against. *)

AssertEq(a, b) == CM_TLCExt_AssertEq(a, b)
AssertError(err, exp) == CM_TLCExt_AssertError(err, exp)
TLCGetOrDefault(key, defaultVal) == CM_TLCExt_TLCGetOrDefault(key, defaultVal)
TLCGetAndSet(key, Op(_,_), val, defaultVal) == CM_TLCExt_TLCGetAndSet(key, Op, val, defaultVal)
Trace == CM_TLCExt_Trace
CounterExample == CM_TLCExt_CounterExample
ToTrace(CE) == CM_TLCExt_ToTrace(CE)
TLCModelValue(str) == CM_TLCExt_TLCModelValue(str)
TLCDefer(expression) == CM_TLCExt_TLCDefer(expression)
TLCNoOp(val) == CM_TLCExt_TLCNoOp(val)
PickSuccessor(exp) == CM_TLCExt_PickSuccessor(exp)
TLCCache(expression, closure) == CM_TLCExt_TLCCache(expression, closure)
TLCFP(var) == CM_TLCExt_TLCFP(var)
TLCEvalDefinition(definitionName) == CM_TLCExt_TLCEvalDefinition(definitionName)
==============================================================================
