-------------------------------- MODULE Folds --------------------------------
(* Folds for tlacheck's built-in checker: every operator calls its native
   implementation (tlacheck/builtin/community). Written for tlacheck; the operators, their
   arities and their meaning are those of the module in tlaplus/CommunityModules
   (TLCExt: tlaplus/tlaplus), whose definitions the test suite checks them against. *)

MapThenFoldSet(op(_,_), base, f(_), choose(_), S) == CM_Folds_MapThenFoldSet(op, base, f, choose, S)
==============================================================================
