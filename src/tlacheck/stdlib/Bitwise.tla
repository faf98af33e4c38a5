------------------------------- MODULE Bitwise -------------------------------
(* Bitwise for tlacheck's built-in checker: every operator calls its native
   implementation (tlacheck/builtin/community). Written for tlacheck; the operators, their
   arities and their meaning are those of the module in tlaplus/CommunityModules
   (TLCExt: tlaplus/tlaplus), whose definitions the test suite checks them against. *)

x & y == CM_Bitwise_And(x, y)
x | y == CM_Bitwise_Or(x, y)
x ^^ y == CM_Bitwise_Xor(x, y)
Not(a) == CM_Bitwise_Not(a)
shiftR(n, pos) == CM_Bitwise_shiftR(n, pos)
==============================================================================
