"""The paper's tasks: generators of training and test sequences (``registry`` names them).

The grammars and the tasks' default parameters are data files in ``data/`` (shipped with the
package)."""
