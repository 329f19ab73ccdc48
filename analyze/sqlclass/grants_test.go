package sqlclass

import (
	"slices"
	"testing"
)

func TestWritePrivileges(t *testing.T) {
	for _, tc := range []struct {
		grants []string
		want   []string
	}{
		{[]string{"GRANT USAGE ON *.* TO `ro`@`%`", "GRANT SELECT, SHOW VIEW ON `test`.* TO `ro`@`%`"}, nil},
		{[]string{"GRANT SELECT (a, b), INSERT (a) ON `test`.`t` TO `u`@`%`"}, []string{"INSERT ON `test`.`t`"}},
		{[]string{"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"},
			[]string{"ALL PRIVILEGES ON *.*", "GRANT OPTION ON *.*"}},
		{[]string{"GRANT root TO 'root'@'%'"}, []string{"role root"}},                                                                            // StarRocks
		{[]string{"GRANT SELECT ON TABLE db.* TO USER `u`@`%`", "GRANT DELETE ON TABLE db.t TO USER `u`@`%`"}, []string{"DELETE ON TABLE db.t"}}, // StarRocks
		{[]string{"GRANT `app_rw`@`%` TO `u`@`%`"}, []string{"role `app_rw`@`%`"}},
		{[]string{"Grants for u@%"}, nil},
	} {
		if got := WritePrivileges(tc.grants); !slices.Equal(got, tc.want) {
			t.Errorf("WritePrivileges(%q) = %q, want %q", tc.grants, got, tc.want)
		}
	}
}
