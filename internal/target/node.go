package target

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MarshalOver writes targets into the YAML of the file they replace, so
// that a save from the console keeps what the organizer wrote by hand:
// every comment (such as the warning that the addresses are placeholders),
// the order of the targets and of their fields, and the quoting of values
// that did not change. A target is matched to its entry by id; a new one is
// appended, a removed one dropped. When old is not a targets file it
// cannot work in, it falls back to Marshal.
func MarshalOver(old []byte, targets []Target) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(old, &doc); err != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 ||
		doc.Content[0].Kind != yaml.MappingNode {
		return Marshal(targets)
	}
	root := doc.Content[0]
	var seq *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "targets" && root.Content[i+1].Kind == yaml.SequenceNode {
			seq = root.Content[i+1]
		}
	}
	if seq == nil {
		return Marshal(targets)
	}
	byID := map[string]*yaml.Node{}
	for _, item := range seq.Content {
		if item.Kind != yaml.MappingNode || item.Anchor != "" {
			continue // an anchored entry may be referred to: it is rewritten fresh
		}
		if v := value(item, "id"); v != nil && v.Kind == yaml.ScalarNode {
			byID[strings.TrimSpace(v.Value)] = item
		}
	}
	content := make([]*yaml.Node, 0, len(targets))
	for _, t := range targets {
		item := byID[t.ID]
		delete(byID, t.ID) // each entry is used once
		if item == nil {
			item = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		setFields(item, t)
		content = append(content, item)
	}
	seq.Content = content
	seq.Style &^= yaml.FlowStyle
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("targets: encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("targets: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// value is the value node of key in a mapping, or nil.
func value(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// setFields puts t's fields into the mapping, changing only the values
// whose meaning differs (an address that differs only in case stays as
// written) and adding missing fields in the file's order.
func setFields(m *yaml.Node, t Target) {
	set := func(key, val, tag string, same func(old string) bool) {
		v := value(m, key)
		if v != nil && v.Kind == yaml.ScalarNode && same(v.Value) {
			return
		}
		fresh := &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: val}
		if v == nil {
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, fresh)
			return
		}
		if v.Kind == yaml.ScalarNode {
			fresh.HeadComment, fresh.LineComment, fresh.FootComment = v.HeadComment, v.LineComment, v.FootComment
			if v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
				fresh.Style = v.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)
			}
		}
		*v = *fresh
	}
	str := func(key, val string) {
		set(key, val, "!!str", func(old string) bool { return strings.TrimSpace(old) == val })
	}
	str("id", t.ID)
	str("name", t.Name)
	str("title", t.Title)
	set("email", t.Email, "!!str", func(old string) bool { return strings.ToLower(strings.TrimSpace(old)) == t.Email })
	str("salutation", t.Salutation)
	set("active", strconv.FormatBool(t.Active), "!!bool", func(old string) bool {
		var b bool
		return yaml.Unmarshal([]byte(old), &b) == nil && b == t.Active
	})
	// areas: a flow list; fields: a flow mapping in name order. An empty
	// one leaves the key out.
	var areas, fields *yaml.Node
	if len(t.Areas) > 0 {
		areas = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
		for _, a := range t.Areas {
			areas.Content = append(areas.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: a})
		}
	}
	if len(t.Fields) > 0 {
		fields = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
		for _, k := range slices.Sorted(maps.Keys(t.Fields)) {
			fields.Content = append(fields.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k},
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t.Fields[k]})
		}
	}
	setNode(m, "areas", areas, func(old *yaml.Node) bool {
		var got []string
		return old.Decode(&got) == nil && slices.Equal(got, t.Areas)
	})
	setNode(m, "fields", fields, func(old *yaml.Node) bool {
		var got map[string]string
		return old.Decode(&got) == nil && maps.Equal(got, t.Fields)
	})
}

// setNode puts a key's value in a mapping (nil removes the key), unless
// the old value means the same.
func setNode(m *yaml.Node, key string, val *yaml.Node, same func(old *yaml.Node) bool) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			continue
		}
		switch {
		case val == nil:
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
		case !same(m.Content[i+1]):
			m.Content[i+1] = val
		}
		return
	}
	if val != nil {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, val)
	}
}
