package wafer

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoad(t *testing.T) {
	require.Len(t, IDs, len(charts), "every chart is in IDs")
	for _, id := range IDs {
		m, err := Load(id)
		require.NoError(t, err, id)
		assert.Equal(t, id, m.ID(), "the chart's id is its machine ID")
		c, ok := Chart(id)
		assert.True(t, ok)
		assert.NotEmpty(t, c)
	}
	_, err := Load("oven")
	require.ErrorContains(t, err, `no machine "oven"`)
	_, ok := Chart("oven")
	assert.False(t, ok)
}
