# The public API's artifact("entity/project/NAME:ALIAS").delete(delete_aliases=…); prints DELETED=1 or the error.
import os, sys
import wandb

api = wandb.Api()
a = api.artifact(f"{os.environ['WANDB_ENTITY_NAME']}/{os.environ['WANDB_PROJECT']}/{sys.argv[1]}")
try:
    a.delete(delete_aliases=len(sys.argv) > 2 and sys.argv[2] == "delete_aliases")
    print("DELETED=1")
except Exception as e:  # the client's own error type varies with its version
    print("ERROR=" + str(e).replace("\n", " "))
