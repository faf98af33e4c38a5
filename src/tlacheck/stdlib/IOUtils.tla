------------------------------- MODULE IOUtils -------------------------------
(* IOUtils for tlacheck's built-in checker: every operator calls its native
   implementation (tlacheck/builtin/community). Written for tlacheck; the operators, their
   arities and their meaning are those of the module in tlaplus/CommunityModules
   (TLCExt: tlaplus/tlaplus), whose definitions the test suite checks them against. *)

IOSerialize(val, absoluteFilename, compress) == CM_IOUtils_IOSerialize(val, absoluteFilename, compress)
IODeserialize(absoluteFilename, compressed) == CM_IOUtils_IODeserialize(absoluteFilename, compressed)
Serialize(value, dest, options) == CM_IOUtils_Serialize(value, dest, options)
Deserialize(src, options) == CM_IOUtils_Deserialize(src, options)
IOExec(command) == CM_IOUtils_IOExec(command)
IOEnvExec(env, command) == CM_IOUtils_IOEnvExec(env, command)
IOExecTemplate(commandTemplate, parameters) == CM_IOUtils_IOExecTemplate(commandTemplate, parameters)
IOEnvExecTemplate(env, commandTemplate, parameters) == CM_IOUtils_IOEnvExecTemplate(env, commandTemplate, parameters)
IOEnv == CM_IOUtils_IOEnv
atoi(str) == CM_IOUtils_atoi(str)
zeroPadN(n, width) == CM_IOUtils_zeroPadN(n, width)
==============================================================================
