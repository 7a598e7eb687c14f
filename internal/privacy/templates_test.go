package privacy

import (
	"io/fs"
	"os"
)

func osTemplates() fs.FS { return os.DirFS("../../templates") }
