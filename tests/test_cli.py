import subprocess
import sys

from click.testing import CliRunner

from pipeline.cli import main


def test_help_lists_the_stages():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("ingest", "extract"):
        assert command in result.output


def test_help_does_not_import_spacy_or_torch():
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from pipeline.cli import main\n"
        "CliRunner().invoke(main, ['extract', '--help'])\n"
        "print(sorted(m for m in ('spacy', 'torch', 'transformers', 'trafilatura') if m in sys.modules))\n"
    )
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
