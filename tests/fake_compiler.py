"""A shell script in place of the C++ compiler, for the tests of the ops'
builder (`keras_seq.utils.native_ops`)."""


def use_fake_compiler(tmp_path, monkeypatch, script):
    """Makes `script` the compiler (`$CXX`) and an empty folder the kernels'
    cache; returns the file where the script is to log each command
    (`$CALLS`)."""
    compiler = tmp_path / "fake-g++"
    compiler.write_text(script)
    compiler.chmod(0o755)
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("CXX", str(compiler))
    monkeypatch.setenv("CALLS", str(calls))
    monkeypatch.setenv("KERAS_SEQ_CACHE", str(tmp_path / "cache"))
    return calls
